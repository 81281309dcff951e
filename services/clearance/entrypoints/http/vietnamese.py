"""The console's interface in Vietnamese: each English text as the templates and the code write it,
and its Vietnamese. A test checks that every text the console writes has an entry here and that
no entry is left over. Reason codes and risk signals are not here: the packs' table has them
(``packs/reasons.yaml``). Terms follow Viet Nam customs usage (luồng xanh/vàng/đỏ, thông quan,
tạm giữ, kiểm tra thực tế, vận đơn chủ, trị giá hải quan, thuế GTGT).
"""

from __future__ import annotations

from typing import Final

__all__ = ["VIETNAMESE"]

VIETNAMESE: Final[dict[str, str]] = {
    # --- the frame of every page ---
    "parcel-clearance console": "Bảng điều khiển parcel-clearance",
    "Skip to the content": "Chuyển đến nội dung chính",
    "Console": "Bảng điều khiển",
    "Work queue": "Hàng chờ xử lý",
    "Dashboard": "Tổng quan",
    "Revenue": "Số thu",
    "Language": "Ngôn ngữ",
    "key": "khóa",
    "Sign out": "Đăng xuất",
    "Officer": "Cán bộ hải quan",
    "Platform": "Sàn thương mại điện tử",
    "Back to the work queue": "Quay lại hàng chờ xử lý",
    # --- statuses, channels, categories, charges, outcomes, totals ---
    "Held": "Tạm giữ",
    "Needs information": "Cần bổ sung thông tin",
    "Released": "Thông quan",
    "Released on payment": "Thông quan sau khi nộp thuế",
    "Refused": "Không cho nhập khẩu",
    "Formal entry required": "Phải khai tờ khai đầy đủ",
    "Cancelled": "Đã hủy",
    "Green channel": "Luồng xanh",
    "Yellow channel": "Luồng vàng",
    "Red channel": "Luồng đỏ",
    "Documents": "Chứng từ",
    "Low value, exempt": "Trị giá thấp, miễn thuế",
    "Low value, dutiable": "Trị giá thấp, chịu thuế",
    "High value": "Trị giá cao",
    "Duty": "Thuế nhập khẩu",
    "Tax": "Thuế GTGT",
    "Excise": "Thuế tiêu thụ đặc biệt",
    "Fee": "Phí",
    "Release": "Thông quan",
    "Seize": "Thu giữ",
    "Reassess with corrections": "Tính lại thuế theo điều chỉnh",
    "Same consignee, same master bill": "Cùng người nhận, cùng vận đơn chủ",
    "Same consignee, same day": "Cùng người nhận, cùng ngày",
    "Same consignee, same year": "Cùng người nhận, cùng năm",
    "Same order": "Cùng đơn hàng",
    # --- the work queue ---
    "Held and needs-information parcels, with what each is waiting for.": (
        "Bưu kiện đang tạm giữ và cần bổ sung thông tin, kèm lý do từng bưu kiện đang chờ."
    ),
    "Keys:": "Phím tắt:",
    "next / previous parcel": "bưu kiện sau / trước",
    "open it": "mở bưu kiện",
    "search": "tìm kiếm",
    "Counts": "Số lượng",
    "Parcels matching": "Bưu kiện phù hợp",
    "By status": "Theo trạng thái",
    "By channel": "Theo luồng",
    "By reason": "Theo lý do",
    "None.": "Không có.",
    "Filter and sort the queue": "Lọc và sắp xếp hàng chờ",
    "Order id, tracking number or master bill": "Mã đơn hàng, mã vận đơn hoặc vận đơn chủ",
    "Status": "Trạng thái",
    "Held or needs information": "Tạm giữ hoặc cần bổ sung thông tin",
    "Channel": "Luồng",
    "Any channel": "Mọi luồng",
    "Destination (country code)": "Nước đến (mã quốc gia)",
    "Reason": "Lý do",
    "Any reason": "Mọi lý do",
    "Risk signal": "Dấu hiệu rủi ro",
    "Any risk signal": "Mọi dấu hiệu rủi ro",
    "Waiting": "Thời gian chờ",
    "Any time": "Bất kỳ",
    "more than 1 hour": "hơn 1 giờ",
    "more than 4 hours": "hơn 4 giờ",
    "more than 24 hours": "hơn 24 giờ",
    "more than 3 days": "hơn 3 ngày",
    "Order": "Thứ tự",
    "Waiting longest first": "Chờ lâu nhất trước",
    "Newest first": "Mới nhất trước",
    "Highest risk first": "Rủi ro cao nhất trước",
    "Red channel first": "Luồng đỏ trước",
    "By destination": "Theo nước đến",
    "By platform": "Theo sàn",
    "Apply": "Áp dụng",
    "Clear all": "Xóa bộ lọc",
    "Not in the queue, but found:": "Không có trong hàng chờ, nhưng tìm thấy:",
    "{shown} of {total} parcels, {order}": "{shown} trên {total} bưu kiện, {order}",
    "Parcel": "Bưu kiện",
    "Dest.": "Nước đến",
    "Reasons": "Lý do",
    "Risk": "Rủi ro",
    "Due": "Phải nộp",
    "Master bill": "Vận đơn chủ",
    "No parcel matches.": "Không có bưu kiện phù hợp.",
    "Pages": "Trang",
    "First page": "Trang đầu",
    "Previous page": "Trang trước",
    "Next page": "Trang sau",
    # --- a decision ---
    "The inspection was not recorded and nothing was sent: see the form below.": (
        "Kết quả kiểm tra chưa được ghi nhận và chưa gửi đi: xem biểu mẫu bên dưới."
    ),
    "Inspection recorded. The new revision appears here once the worker has applied it (reload).": (
        "Đã ghi nhận kết quả kiểm tra. Phiên bản quyết định mới sẽ hiện ở đây khi hệ thống "
        "xử lý xong (tải lại trang)."
    ),
    "revision {n}": "phiên bản {n}",
    "order revision {n}": "phiên bản đơn hàng {n}",
    "decided": "ra quyết định lúc",
    "tracking number": "mã vận đơn",
    "Rule pack": "Bộ quy tắc",
    "version": "phiên bản",
    "digest": "mã băm",
    "assessment date": "ngày tính thuế",
    "category": "loại hàng",
    "rate": "tỷ giá",
    "trace": "vết xử lý",
    "Amounts ({currency})": "Số tiền ({currency})",
    "Customs value": "Trị giá hải quan",
    "Value tested against thresholds": "Trị giá dùng để xét ngưỡng",
    "Total due": "Tổng số phải nộp",
    "Collected at checkout": "Đã thu khi thanh toán",
    "Risk score {score}": "Điểm rủi ro {score}",
    "no signal": "không có dấu hiệu",
    "Charges": "Các khoản thu",
    "Kind": "Loại",
    "Line": "Dòng hàng",
    "Basis": "Cơ sở tính",
    "Rate": "Thuế suất",
    "Amount": "Số tiền",
    "Formula": "Công thức",
    "Legal reference": "Căn cứ pháp lý",
    "parcel": "cả bưu kiện",
    "No charge.": "Không có khoản thu.",
    "Lines": "Dòng hàng",
    "HS code": "Mã HS",
    "Qty": "SL",
    "Preference": "Ưu đãi",
    "missing": "thiếu",
    "Revision history": "Lịch sử phiên bản",
    "Record an inspection": "Ghi nhận kết quả kiểm tra",
    "Correct the fields marked below, then record the result again.": (
        "Sửa các trường được đánh dấu bên dưới rồi ghi nhận lại kết quả."
    ),
    "Outcome": "Kết quả",
    "Corrections of line 1 (reassess only)": "Điều chỉnh dòng hàng 1 (chỉ khi tính lại thuế)",
    "Unit price (order currency)": "Đơn giá (theo tiền của đơn hàng)",
    "Notes": "Ghi chú",
    "Record the result": "Ghi nhận kết quả",
    # --- the forms' messages (forms.py) ---
    "Paste an API key (ck_...).": "Dán khóa API (ck_...).",
    "Not a platform name: reload the parcel's page.": (
        "Không phải tên sàn: tải lại trang của bưu kiện."
    ),
    "Not an order id (1 to 64 characters): reload the parcel's page.": (
        "Không phải mã đơn hàng (1 đến 64 ký tự): tải lại trang của bưu kiện."
    ),
    "Not a shipment id (1 to 64 characters): reload the parcel's page.": (
        "Không phải mã lô gửi (1 đến 64 ký tự): tải lại trang của bưu kiện."
    ),
    "Not a decision id: reload the parcel's page.": (
        "Không phải mã quyết định: tải lại trang của bưu kiện."
    ),
    "Choose release, seize or reassess.": "Chọn thông quan, thu giữ hoặc tính lại thuế.",
    "An HS code has 6 to 10 digits (dots and spaces allowed), e.g. 6109.10.": (
        "Mã HS có từ 6 đến 10 chữ số (được dùng dấu chấm và khoảng trắng), ví dụ 6109.10."
    ),
    "A price is a number, not negative, with at most 4 decimals, e.g. 12.50.": (
        "Giá là một số không âm, tối đa 4 chữ số thập phân, ví dụ 12.50."
    ),
    "Notes hold at most 2000 characters.": "Ghi chú tối đa 2000 ký tự.",
    "Not recorded": "Chưa ghi nhận",
    "The inspection was not recorded": "Kết quả kiểm tra chưa được ghi nhận",
    "This form does not name a parcel this console can show. Nothing was sent.": (
        "Biểu mẫu này không chỉ ra bưu kiện nào có thể hiển thị. Không có gì được gửi đi."
    ),
    # --- a master bill ---
    "Master bill {bill}": "Vận đơn chủ {bill}",
    "Master air waybill {bill}": "Vận đơn hàng không chủ {bill}",
    "{count} parcels under this master bill, {consignees} consignees.": (
        "{count} bưu kiện thuộc vận đơn chủ này, {consignees} người nhận."
    ),
    "Amounts of the bag (cancelled parcels left out)": (
        "Số tiền của cả bao hàng (không tính bưu kiện đã hủy)"
    ),
    "Currency": "Loại tiền",
    "Running totals that tie these parcels (anti-splitting)": (
        "Tổng cộng dồn gắn các bưu kiện này với nhau (chống chia nhỏ lô hàng)"
    ),
    "Each total adds up the value of every parcel filed under it, also those outside this "
    "bag; a parcel is assessed against the relief with the others' share added.": (
        "Mỗi tổng cộng dồn trị giá của mọi bưu kiện thuộc về nó, kể cả bưu kiện ngoài bao hàng "
        "này; mỗi bưu kiện được xét ngưỡng miễn thuế sau khi cộng phần của các bưu kiện khác."
    ),
    "Total": "Tổng",
    "Consignee": "Người nhận",
    "Value": "Trị giá",
    "Parcels, all": "Số bưu kiện, tất cả",
    "Parcels in this bag": "Bưu kiện trong bao này",
    "Relief exceeded together": "Cộng gộp vượt ngưỡng miễn thuế",
    "Yes": "Có",
    "No": "Không",
    "No total ties two parcels here: each was assessed on its own.": (
        "Không có tổng nào gắn hai bưu kiện ở đây: mỗi bưu kiện được xét riêng."
    ),
    "Parcels, by consignee": "Bưu kiện, theo người nhận",
    "Goods": "Hàng hóa",
    "Value tested": "Trị giá xét ngưỡng",
    "{n} parcels": "{n} bưu kiện",
    "Listed: the first {shown} parcels of {count}, by consignee; the counts and amounts "
    "above cover them all.": (
        "Danh sách: {shown} bưu kiện đầu tiên trong số {count}, theo người nhận; số lượng và "
        "số tiền ở trên tính cho tất cả."
    ),
    "Not found": "Không tìm thấy",
    "There is no such parcel or master bill for this key.": (
        "Không có bưu kiện hoặc vận đơn chủ này đối với khóa đang dùng."
    ),
    # --- the dashboard and revenue ---
    "Period": "Khoảng thời gian",
    "From": "Từ ngày",
    "To": "Đến ngày",
    "Show": "Xem",
    "Not a date: type it as {format}.": "Không phải ngày hợp lệ: nhập theo dạng {format}.",
    "A period covers at most {days} days.": "Một kỳ báo cáo tối đa {days} ngày.",
    "Period: {first} to {last} (UTC), for inspections and revenue. Decisions per hour and the "
    "share of green: the last 24 hours; reasons: the parcels waiting now. Figures of {time}, "
    "kept up to a minute.": (
        "Khoảng thời gian: {first} đến {last} (UTC), cho kết quả kiểm tra và số thu. Số quyết "
        "định mỗi giờ và tỷ lệ luồng xanh: 24 giờ qua; lý do: các bưu kiện đang chờ. Số liệu "
        "lúc {time}, lưu tối đa một phút."
    ),
    "Decisions per hour by channel, last 24 hours": (
        "Số quyết định mỗi giờ theo luồng, 24 giờ qua"
    ),
    "Decisions": "Số quyết định",
    "Counted at {time}; the list below is live.": (
        "Đếm lúc {time}; danh sách bên dưới là số liệu trực tiếp."
    ),
    "Hour (UTC)": "Giờ (UTC)",
    "Parcels": "Bưu kiện",
    "Share of green": "Tỷ lệ luồng xanh",
    "{n} decisions in the last 24 hours": "{n} quyết định trong 24 giờ qua",
    "Share": "Tỷ lệ",
    "Top reasons for holds": "Lý do tạm giữ phổ biến nhất",
    "Reasons of the parcels held or waiting for information now": (
        "Lý do của các bưu kiện đang tạm giữ hoặc chờ bổ sung thông tin"
    ),
    "Relative": "Tương quan",
    "No parcel waits.": "Không có bưu kiện nào đang chờ.",
    "Inspection outcomes": "Kết quả kiểm tra thực tế",
    "Results recorded in the period": "Kết quả được ghi nhận trong kỳ",
    "Inspections": "Số lần kiểm tra",
    "Hit rate per risk signal": "Tỷ lệ phát hiện theo dấu hiệu rủi ro",
    "Inspected parcels that carried the signal, and how many were seized": (
        "Bưu kiện đã kiểm tra có dấu hiệu này, và số bị thu giữ"
    ),
    "Inspected": "Đã kiểm tra",
    "Seized": "Bị thu giữ",
    "Hit rate": "Tỷ lệ phát hiện",
    "No inspection in the period.": "Không có lần kiểm tra nào trong kỳ.",
    "Revenue by day": "Số thu theo ngày",
    "Duty and tax of current decisions by assessment day, per currency.": (
        "Thuế nhập khẩu và thuế GTGT của các quyết định hiện hành theo ngày tính thuế, "
        "theo từng loại tiền."
    ),
    "Table and CSV": "Bảng số liệu và CSV",
    "Duty and tax per day in {currency}": "Thuế nhập khẩu và thuế GTGT theo ngày, bằng {currency}",
    "Assessment day": "Ngày tính thuế",
    "Duty and tax ({currency})": "Thuế nhập khẩu và thuế GTGT ({currency})",
    "Nothing assessed in this period.": "Không có số thuế nào trong kỳ.",
    "Duty and tax assessed": "Số thuế đã tính",
    "Download CSV": "Tải CSV",
    "Day": "Ngày",
    "Nothing in this period.": "Không có số liệu trong kỳ.",
    # --- signing in, errors ---
    "Sign in": "Đăng nhập",
    "API key": "Khóa API",
    "An officer key or a platform key (made with clearance keys create). Signing in opens a "
    "session of at most 8 hours, ended after 30 minutes without use or by signing out; the "
    "browser keeps the session, never the key.": (
        "Khóa của cán bộ hải quan hoặc của sàn (tạo bằng lệnh clearance keys create). Đăng nhập "
        "mở một phiên làm việc tối đa 8 giờ, tự kết thúc sau 30 phút không sử dụng hoặc khi đăng "
        "xuất; trình duyệt chỉ lưu phiên, không lưu khóa."
    ),
    "This key is not an officer or platform key.": (
        "Khóa này không phải khóa của cán bộ hải quan hoặc của sàn."
    ),
    "Error {code}": "Lỗi {code}",
    "That did not work ({code})": "Không thực hiện được ({code})",
}
