// revise: the draft page without a button under every block (issue #16). Tapping or clicking a
// paragraph, heading or table row shows its "Comment" link; a focused link shows itself (CSS).
// Without JavaScript every block has a plain, quiet link instead, so nothing depends on this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var active = null;
  document.addEventListener("click", function (e) {
    if (e.target.closest("a, button, input, textarea, select, label, summary, form")) return;
    var block = e.target.closest(".draft .block");
    if (!block || window.getSelection && !window.getSelection().isCollapsed) return;
    if (!toolsOf(block)) return; // cover lines and the contents have no actions
    if (active && active !== block) active.classList.remove("active");
    active = block.classList.toggle("active") ? block : null;
  });

  function toolsOf(block) {
    if (block.tagName === "TR") return block.querySelector(".tools");
    var next = block.nextElementSibling;
    return next && next.classList.contains("tools") ? next : null;
  }
})();
