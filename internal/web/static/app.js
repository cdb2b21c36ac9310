// Rightsize UI: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Filter and switcher selects submit their form on change.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit(); });
  });

  // The user menu closes on a click elsewhere or on Escape.
  var menu = document.querySelector("details.usermenu");
  if (menu) {
    document.addEventListener("click", function (e) { if (menu.open && !menu.contains(e.target)) { menu.open = false; } });
    document.addEventListener("keydown", function (e) { if (e.key === "Escape" && menu.open) { menu.open = false; menu.querySelector("summary").focus(); } });
  }

  // Forms that destroy something ask first.
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) { e.preventDefault(); }
    });
  });

  // Copy a shown-once secret.
  document.querySelectorAll("[data-copy]").forEach(function (b) {
    b.addEventListener("click", function () {
      var input = document.getElementById(b.getAttribute("data-copy"));
      input.select();
      var done = function () { b.textContent = "Copied"; };
      if (navigator.clipboard) { navigator.clipboard.writeText(input.value).then(done, function () {}); }
      else if (document.execCommand("copy")) { done(); }
    });
  });

  // Deal form: offer only the stages of the chosen pipeline.
  var pipeline = document.getElementById("f-pipeline");
  var stage = document.getElementById("f-stage");
  if (pipeline && stage && pipeline.closest("form.form") && stage.querySelector("optgroup")) {
    var labels = {};
    Array.prototype.forEach.call(pipeline.options, function (o) { labels[o.textContent] = o.value; });
    var sync = function () {
      var first = null, keep = false;
      stage.querySelectorAll("optgroup").forEach(function (g) {
        var on = labels[g.label] === pipeline.value;
        g.hidden = !on; g.disabled = !on;
        if (on) {
          first = first || g.querySelector("option");
          if (g.contains(stage.options[stage.selectedIndex])) { keep = true; }
        }
      });
      if (!keep && first) { first.selected = true; }
    };
    pipeline.addEventListener("change", sync);
    sync();
  }
  // Rule editors: move a rule up or down and renumber the order inputs, so the
  // order posted is the order shown. Without script the order numbers are typed.
  document.querySelectorAll("[data-rules]").forEach(function (list) {
    var renumber = function () {
      list.querySelectorAll("[data-rule]").forEach(function (li, i) {
        var pos = li.querySelector("[data-pos]");
        if (pos) { pos.value = String(i + 1); }
      });
    };
    list.addEventListener("click", function (e) {
      var b = e.target.closest("button[data-move]");
      if (!b) { return; }
      var li = b.closest("[data-rule]");
      if (b.getAttribute("data-move") === "-1") {
        var prev = li.previousElementSibling;
        if (prev && prev.hasAttribute("data-rule")) { list.insertBefore(li, prev); }
      } else {
        var next = li.nextElementSibling;
        if (next && next.hasAttribute("data-rule")) { list.insertBefore(next, li); }
      }
      renumber();
      b.focus();
    });
  });
})();
