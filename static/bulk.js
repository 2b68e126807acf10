// The queue's "all rows on this page" box ticks every row's box (issue #13). Without
// JavaScript the box is sent as it is and the server takes the page's rows itself.
document.addEventListener("change", function (event) {
  var box = event.target;
  if (!box.matches || !box.matches("input[data-select-page]")) return;
  var form = box.form;
  if (!form) return;
  form.querySelectorAll("input[name=ids]").forEach(function (row) { row.checked = box.checked; });
});
