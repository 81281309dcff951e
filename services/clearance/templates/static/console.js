// Keyboard work through the queue (the page works without it: every control is a link or a
// form field in reading order). j / k: next / previous parcel; Enter opens it; / : search.
(function () {
  "use strict";
  var links = Array.prototype.slice.call(document.querySelectorAll("[data-parcel-link]"));
  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || (target && target.isContentEditable);
  }
  function move(step) {
    if (!links.length) { return; }
    var at = links.indexOf(document.activeElement);
    var next = at < 0 ? (step > 0 ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, at + step));
    links[next].focus();
  }
  links.forEach(function (link) {
    var row = link.closest("tr");
    link.addEventListener("focus", function () { row.classList.add("current"); });
    link.addEventListener("blur", function () { row.classList.remove("current"); });
  });
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) { return; }
    if (event.key === "j") { move(1); event.preventDefault(); }
    else if (event.key === "k") { move(-1); event.preventDefault(); }
    else if (event.key === "/") {
      var search = document.getElementById("q");
      if (search) { search.focus(); event.preventDefault(); }
    }
  });
})();
