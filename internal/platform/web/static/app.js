// hopnhat: the little script the pages need. No inline script anywhere (CSP).
document.addEventListener("click", function (e) {
  var back = e.target.closest("[data-back]");
  if (back && history.length > 1) { e.preventDefault(); history.back(); return; }
  if (e.target.closest("[data-print]")) { e.preventDefault(); window.print(); return; }
  var c = e.target.closest("[data-confirm]");
  if (c && !window.confirm(c.getAttribute("data-confirm"))) { e.preventDefault(); }
});
document.addEventListener("submit", function (e) {
  var c = e.target.getAttribute("data-confirm");
  if (c && !window.confirm(c)) { e.preventDefault(); }
});
