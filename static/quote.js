// revise: selecting words in a paragraph while its comment form is open fills the
// "words you refer to" field. Without JavaScript the field is typed or pasted instead.
(function () {
  "use strict";
  document.addEventListener("mouseup", fill);
  document.addEventListener("touchend", fill);
  document.addEventListener("keyup", function (e) { if (e.shiftKey) fill(); });

  function fill() {
    var selection = window.getSelection();
    if (!selection || selection.isCollapsed) return;
    var text = selection.toString().trim();
    if (!text || text.length > 500) return;
    var node = selection.anchorNode && selection.anchorNode.parentElement;
    var block = node && node.closest(".block");
    if (!block || !block.id) return;
    var input = document.querySelector('input[data-quote-for="' + block.id + '"]');
    if (input) {
      input.value = text;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }
})();
