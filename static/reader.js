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

  // After sending, the receipt replaces the form: bring it to the top of the screen (issue #16).
  document.addEventListener("htmx:afterSettle", function (e) {
    var box = e.target.classList && e.target.classList.contains("receipt-box") ? e.target
      : e.target.querySelector && e.target.querySelector(".receipt-box");
    if (!box) return;
    document.querySelectorAll(".receipt-box[id=receipt]").forEach(function (old) { if (old !== box) old.removeAttribute("id"); });
    box.scrollIntoView({ block: "start" });
    box.focus({ preventScroll: true });
  });

  function toolsOf(block) {
    if (block.tagName === "TR") return block.querySelector(".tools");
    var next = block.nextElementSibling;
    return next && next.classList.contains("tools") ? next : null;
  }
})();
