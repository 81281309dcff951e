-- A row stays whole in its table up to a page's worth (8,160 bytes), its JSON body included.
-- Migration 0001 stored bodies uncompressed (STORAGE EXTERNAL: pglz was the largest part of a
-- batch's write), but a row over about 2 KB still had its body moved out of line, into the TOAST
-- table: a second row and a TOAST index entry for most decisions (2.9 KB on average in the
-- bench's mix, up to about 5 KB). Kept in line, a decision costs PostgreSQL about 40% less CPU to
-- insert and takes the same space (3.6 KB against 3.4). Rows stored before are left as they are.
ALTER TABLE decisions SET (toast_tuple_target = 8160);
ALTER TABLE orders SET (toast_tuple_target = 8160);
