/* Rightsize embeddable forms. Put <div data-rightsize-form="FORM_KEY"></div>
   where the form goes and load this script from your Rightsize server.
   Builds the form with DOM methods only (no innerHTML), captures UTM
   parameters and the tracking visitor id, and posts JSON. */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? new URL(script.src).origin : "";
  var utm = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];

  function cookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) { if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, attrs[k]); }
    if (text) e.textContent = text;
    return e;
  }
  function render(root) {
    var key = root.getAttribute("data-rightsize-form");
    var vid = cookie("rs_vid");
    fetch(base + "/f/" + encodeURIComponent(key) + "/fields?vid=" + encodeURIComponent(vid))
      .then(function (r) { if (!r.ok) throw new Error("form " + key + ": " + r.status); return r.json(); })
      .then(function (d) { build(root, key, vid, d); })
      .catch(function (e) { root.textContent = "This form could not be loaded."; if (window.console) console.error(e); });
  }
  function build(root, key, vid, d) {
    var form = el("form", { "class": "rs-form", novalidate: "" });
    var errors = {};
    d.fields.forEach(function (f) {
      var id = "rs-" + key + "-" + f.field;
      form.appendChild(el("label", { "for": id }, f.label + (f.required ? " *" : "")));
      var type = f.field === "email" ? "email" : f.field === "phone" ? "tel" : "text";
      form.appendChild(el("input", { id: id, name: f.field, type: type, required: f.required ? "" : null }));
      errors[f.field] = form.appendChild(el("div", { "class": "rs-error", role: "alert" }));
    });
    var hp = el("div", { "aria-hidden": "true", style: "position:absolute;left:-10000px" });
    hp.appendChild(el("input", { name: "_hp", type: "text", tabindex: "-1", autocomplete: "off" }));
    form.appendChild(hp);
    if (d.consent_text) {
      var l = el("label", { "class": "rs-consent" });
      l.style.fontWeight = "400";
      l.appendChild(el("input", { type: "checkbox", name: "consent", value: "yes" }));
      l.appendChild(document.createTextNode(" " + d.consent_text));
      form.appendChild(l);
      errors.consent = form.appendChild(el("div", { "class": "rs-error", role: "alert" }));
    }
    var general = form.appendChild(el("div", { "class": "rs-error", role: "alert" }));
    var button = form.appendChild(el("button", { type: "submit" }, d.submit));
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      for (var k in errors) errors[k].textContent = "";
      general.textContent = "";
      // The tracking script may have set its cookie after the form rendered.
      var body = { _vid: cookie("rs_vid") || vid };
      var params = new URLSearchParams(location.search);
      utm.forEach(function (u) { if (params.get(u)) body[u] = params.get(u); });
      Array.prototype.forEach.call(form.elements, function (i) {
        if (!i.name) return;
        if (i.type === "checkbox") { if (i.checked) body[i.name] = i.value; } else if (i.value !== "") body[i.name] = i.value;
      });
      button.disabled = true;
      fetch(base + "/f/" + encodeURIComponent(key), { method: "POST", headers: { "Content-Type": "text/plain" }, body: JSON.stringify(body) })
        .then(function (r) {
          return r.json().then(function (j) { return { status: r.status, body: j, retry: r.headers.get("Retry-After") }; });
        })
        .then(function (res) {
          button.disabled = false;
          if (res.status === 200) {
            if (res.body.redirect) { location.href = res.body.redirect; return; }
            var done = el("div", { "class": "rs-done", role: "status" }, res.body.message);
            if (res.body.asset_url) { done.appendChild(document.createTextNode(" ")); done.appendChild(el("a", { href: res.body.asset_url }, "Download")); }
            form.replaceWith(done);
            return;
          }
          if (res.status === 429) { general.textContent = "Too many attempts; try again in " + (res.retry || "a few") + " seconds."; return; }
          var where = res.body.field && errors[res.body.field] ? errors[res.body.field] : general;
          var msg = res.body.detail || "Something went wrong.";
          if (res.body.field && msg.indexOf(res.body.field + ": ") === 0) msg = msg.slice(res.body.field.length + 2);
          where.textContent = msg;
        })
        .catch(function () { button.disabled = false; general.textContent = "Could not send the form; check your connection."; });
    });
    root.textContent = "";
    root.appendChild(form);
  }
  // Plain default styles, scoped to .rs-form and easy to override; skipped
  // when the page already styles the form (a .rs-form rule of its own).
  function styles() {
    if (document.getElementById("rs-form-styles")) return;
    var css = ".rs-form{display:grid;gap:.35rem;max-width:28rem;font:inherit}" +
      ".rs-form label{font-weight:600;margin-top:.5rem}" +
      ".rs-form input[type=text],.rs-form input[type=email],.rs-form input[type=tel]{padding:.55rem .6rem;border:1px solid #cbd2d9;border-radius:6px;font:inherit}" +
      ".rs-form input:focus{outline:2px solid #2563eb;outline-offset:1px}" +
      ".rs-form .rs-consent{display:flex;gap:.5rem;align-items:flex-start;font-weight:400}" +
      ".rs-form .rs-error{color:#b42318;font-size:.9em;min-height:0}.rs-form .rs-error:empty{display:none}" +
      ".rs-form button{justify-self:start;margin-top:.75rem;padding:.6rem 1.2rem;border:0;border-radius:6px;background:#2563eb;color:#fff;font:inherit;font-weight:600;cursor:pointer}" +
      ".rs-form button[disabled]{opacity:.6}" +
      ".rs-done{padding:1rem;border:1px solid #b7e4c7;background:#ecfdf3;border-radius:6px}";
    var st = el("style", { id: "rs-form-styles" });
    st.textContent = css;
    (document.head || document.documentElement).appendChild(st);
  }
  styles();
  var roots = document.querySelectorAll("[data-rightsize-form]");
  Array.prototype.forEach.call(roots, render);
})();
