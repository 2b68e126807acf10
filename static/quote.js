// revise: selecting words in a paragraph while its comment form is open fills the
// "words you refer to" field. Without JavaScript the field is typed or pasted instead.
// When a thread is shown, the words its published comments quote are marked in the
// paragraph; without JavaScript each comment shows its quote, which is enough.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function (e) { highlight(e.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { highlight(document); });
  } else {
    highlight(document);
  }
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

  // Each comment carries where its phrase is in the block's current text (data-anchor-*,
  // computed on the server). The CSP forbids inline scripts, hence data attributes.
  function highlight(root) {
    var byBlock = {};
    root.querySelectorAll("article.comment[data-anchor-start]").forEach(function (comment) {
      var id = comment.getAttribute("data-block");
      (byBlock[id] = byBlock[id] || []).push(comment);
    });
    Object.keys(byBlock).forEach(function (id) { mark(id, byBlock[id]); });
  }

  function mark(blockId, comments) {
    var block = document.getElementById(blockId);
    var span = block && block.querySelector(".text");
    if (!span) return; // a table row has no single text to mark: the comment shows its quote
    unmark(span);
    var node = span.firstChild;
    if (!node || node.nodeType !== Node.TEXT_NODE || span.childNodes.length !== 1) return;
    var ranges = [];
    comments.forEach(function (comment) {
      var words = comment.getAttribute("data-anchor-text");
      var start = place(node.data, words, parseInt(comment.getAttribute("data-anchor-start"), 10));
      if (start !== null) ranges.push([start, start + words.length]);
    });
    // Overlapping quotes become one mark; marks are made from the last one back, so the
    // offsets of earlier ones stay valid in the text node that remains in front.
    ranges.sort(function (a, b) { return a[0] - b[0]; });
    var merged = [];
    ranges.forEach(function (r) {
      var last = merged[merged.length - 1];
      if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
      else merged.push(r.slice());
    });
    for (var i = merged.length - 1; i >= 0; i--) {
      var range = document.createRange();
      range.setStart(node, merged[i][0]);
      range.setEnd(node, merged[i][1]);
      var m = document.createElement("mark");
      m.className = "quoted";
      range.surroundContents(m);
    }
  }

  // Where the words are in the text as shown: at the server's position, else (characters
  // outside the BMP count twice in JavaScript; an older page) the occurrence nearest it.
  function place(text, words, start) {
    if (!words || isNaN(start)) return null;
    if (text.substr(start, words.length) === words) return start;
    var best = null;
    for (var at = text.indexOf(words); at !== -1; at = text.indexOf(words, at + 1)) {
      if (best === null || Math.abs(at - start) < Math.abs(best - start)) best = at;
    }
    return best;
  }

  function unmark(span) {
    span.querySelectorAll("mark.quoted").forEach(function (m) {
      m.parentNode.replaceChild(document.createTextNode(m.textContent), m);
    });
    span.normalize();
  }
})();
