// revise: the triage view's keys (issue #13). Without this file every action is still a plain
// form or link (the keys only press them); htmx swaps the panel (#triage) in place.
//   1-4 choose the decision, then 1-9 / arrows pick a common reply (its text fills the reason),
//   Enter saves and shows the next comment, e edits the reason, g the whole group, a accepts the
//   suggestion (Enter confirms), j / → skip, k / ← back, ? help, Esc chooses again.
// Keys pressed while the next comment is loading are kept and replayed on it, in order.
(function () {
  "use strict";
  var DISPOSITIONS = { "1": "adopted", "2": "partly", "3": "rejected", "4": "reflected" };
  var loading = false;
  var queued = [];
  var lastPanel = null;
  var helpReturn = null;

  function $(id) { return document.getElementById(id); }
  function panel() { return $("triage"); }

  function say(text) {
    var live = $("triage-live");
    if (!live || !text) return;
    // the same words twice are still announced: the region changes every time
    live.textContent = live.textContent === text ? text + "\u00a0" : text;
  }
  function message(name, values) {
    var live = $("triage-live");
    var text = live ? live.getAttribute("data-" + name) || "" : "";
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(values[k]); });
    return text;
  }

  function setMode(p, mode) {
    if (mode) p.setAttribute("data-mode", mode); else p.removeAttribute("data-mode");
  }

  function focusStart(p) {
    var error = p.querySelector("#triage-errors");
    var target = error || $("tc-h");
    if (error) error.setAttribute("tabindex", "-1");
    if (target) target.focus({ preventScroll: !error });
  }

  function choose(p, disposition) {
    var radio = p.querySelector('input[name=disposition][value="' + disposition + '"]');
    if (!radio) return;
    radio.checked = true;
    p.setAttribute("data-disposition", disposition);
    p.querySelectorAll(".tpl-group").forEach(function (g) {
      g.classList.toggle("current", g.getAttribute("data-disposition") === disposition);
    });
    p.querySelectorAll("input[name=template]:checked").forEach(function (r) {
      if (!r.closest(".tpl-group.current")) r.checked = false;
    });
    setMode(p, "reason");
    say(message("chosen", { d: radio.getAttribute("data-label") || disposition }));
  }

  function replies(p) {
    return Array.prototype.slice.call(p.querySelectorAll(".tpl-group.current input[name=template]"));
  }

  function pick(p, index) {
    var list = replies(p);
    var radio = list[index];
    if (!radio) return;
    radio.checked = true;
    fill(radio);
    say(message("picked", { n: String(index + 1), text: radio.getAttribute("data-text") }));
  }

  function fill(radio) {
    var reason = $("triage-reason");
    if (reason) reason.value = radio.getAttribute("data-text") || "";
  }

  function click(id) {
    var el = $(id);
    if (el) el.click();
    return !!el;
  }

  function handle(e) {
    var p = panel();
    var key = e.key;
    var mode = p.getAttribute("data-mode") || "";
    if (key === "?") { openHelp(); return true; }
    if (mode === "accept") {
      if (key === "Enter") { setMode(p, ""); return click("triage-accept"); }
      if (key === "Escape") { setMode(p, ""); return true; }
      return true; // nothing else while the acceptance waits for its Enter
    }
    if (/^[1-9]$/.test(key)) {
      if (mode === "reason") pick(p, Number(key) - 1);
      else if (DISPOSITIONS[key]) choose(p, DISPOSITIONS[key]);
      return true;
    }
    switch (key) {
      case "Enter": return click("triage-save");
      case "ArrowDown": case "ArrowUp": {
        if (mode !== "reason") return false;
        var list = replies(p);
        if (!list.length) return true;
        var at = list.findIndex(function (r) { return r.checked; });
        at = at < 0 ? (key === "ArrowDown" ? 0 : list.length - 1)
          : Math.max(0, Math.min(list.length - 1, at + (key === "ArrowDown" ? 1 : -1)));
        pick(p, at);
        return true;
      }
      case "e": { var reason = $("triage-reason"); if (reason) reason.focus(); return true; }
      case "g": {
        var box = p.querySelector(".triage-whole-group input");
        if (!box) return true;
        box.checked = !box.checked;
        say(message(box.checked ? "group-on" : "group-off"));
        return true;
      }
      case "a":
        if ($("triage-accept")) { setMode(p, "accept"); say(message("accept")); }
        return true;
      case "j": case "ArrowRight": return click("triage-skip");
      case "k": case "ArrowLeft": return click("triage-back");
      case "Escape":
        setMode(p, "");
        p.removeAttribute("data-disposition");
        return true;
    }
    return false;
  }

  document.addEventListener("keydown", function (e) {
    var p = panel();
    if (!p) return;
    var help = $("triage-help");
    if (help && !help.hidden) {
      if (e.key === "Escape" || e.key === "?") { e.preventDefault(); closeHelp(); }
      return;
    }
    var t = e.target;
    var typing = t && (t.tagName === "TEXTAREA" || t.tagName === "SELECT" ||
      (t.tagName === "INPUT" && !/^(radio|checkbox|button|submit)$/.test(t.type)));
    if (typing) {
      if (t.id === "triage-reason" && (e.ctrlKey || e.metaKey) && e.key === "Enter") { e.preventDefault(); click("triage-save"); }
      else if (e.key === "Escape") { e.preventDefault(); $("tc-h").focus(); }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if ((e.key === "Enter" || e.key === " ") && t && t.closest && t.closest("a, button, summary")) return;
    if (loading) { // the next comment is on its way: keep the key for it
      if (e.key.length === 1 || /^(Enter|Escape|Arrow)/.test(e.key)) { e.preventDefault(); queued.push(e.key); }
      return;
    }
    if (handle(e)) e.preventDefault();
  });

  function replay() {
    while (queued.length && !loading && panel()) {
      var key = queued.shift();
      handle({ key: key });
    }
  }

  // Mouse and touch: a decision or a reply chosen by clicking works like its key.
  document.addEventListener("change", function (e) {
    var p = panel();
    if (!p || !p.contains(e.target)) return;
    if (e.target.name === "disposition") choose(p, e.target.value);
    else if (e.target.name === "template") fill(e.target);
  });

  document.addEventListener("htmx:beforeRequest", function (e) {
    if (panel() && panel().contains(e.target)) loading = true;
  });
  // The next panel is "on its way" until it has been swapped in and settled, not only until its
  // answer arrived: a key pressed in between would act on the old panel (or on a new form htmx has
  // not taken over yet, sent as a plain page load). A request that brings no panel ends it at once.
  document.addEventListener("htmx:afterRequest", function (e) {
    var status = e.detail.xhr ? e.detail.xhr.status : 0;
    if (!e.detail.successful && status !== 422 && status !== 409) { loading = false; replay(); }
  });
  document.addEventListener("htmx:swapError", function () { loading = false; });
  // A refused decision (422) or a conflict (409) comes back as the panel with its message: show it.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var status = e.detail.xhr.status;
    if ((status === 422 || status === 409) && e.detail.target && e.detail.target.id === "triage") {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
  document.addEventListener("htmx:afterSettle", function () { loading = false; arrived(); });

  function arrived() {
    var p = panel();
    if (!p || p === lastPanel) return;
    lastPanel = p;
    var disposition = (p.querySelector("input[name=disposition]:checked") || {}).value;
    if (disposition && p.getAttribute("data-error")) choose(p, disposition);
    focusStart(p);
    say(p.getAttribute("data-announce"));
    replay();
  }

  function openHelp() {
    var help = $("triage-help");
    if (!help) return;
    helpReturn = document.activeElement;
    help.hidden = false;
    $("triage-help-h").focus();
  }
  function closeHelp() {
    var help = $("triage-help");
    if (!help) return;
    help.hidden = true;
    if (helpReturn && document.contains(helpReturn)) helpReturn.focus(); else if (panel()) focusStart(panel());
  }

  function start() {
    var open = $("triage-help-open");
    if (open) { open.hidden = false; open.addEventListener("click", openHelp); }
    var close = $("triage-help-close");
    if (close) close.addEventListener("click", closeHelp);
    document.documentElement.classList.add("js");
    arrived();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
