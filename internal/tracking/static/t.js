/* Rightsize first-party tracking (docs/tracking.md). No dependencies.
   <script src="https://HOST/t.js" data-site="KEY" async></script>
   rightsize('track', name, props) · rightsize('content', assetId) · rightsize('consent', true|false)
   rightsize('visitor', fn) calls fn with the visitor id (forms send it to stitch). */
(function (w, d) {
  "use strict";
  var s = d.currentScript || d.querySelector("script[data-site]");
  if (!s || w.__rightsize) return;
  w.__rightsize = 1;
  var site = s.getAttribute("data-site"), needConsent = s.getAttribute("data-consent") === "required";
  var ep = new URL("/t/e", s.src).href, queue = [], vid = null, ok = !needConsent, timer = 0;
  var MAX = 50, DAY = 864e5;
  // A tracked email click lands with ?rs_id=<token>: sent once with the next
  // batch (it names the contact), and taken out of the address bar and of the
  // URLs this script records.
  var ident = null;
  try {
    var here = new URL(location.href);
    ident = here.searchParams.get("rs_id");
    if (ident) {
      here.searchParams.delete("rs_id");
      if (w.history && history.replaceState) history.replaceState(history.state, "", here.href);
    }
  } catch (e) {}

  function readCookie() {
    var m = d.cookie.match(/(?:^|;\s*)rs_vid=([A-Za-z0-9_-]{8,64})/);
    return m ? m[1] : null;
  }
  function newID() {
    var a = new Uint8Array(16), c = w.crypto, out = "", abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    if (c && c.getRandomValues) c.getRandomValues(a); else for (var i = 0; i < 16; i++) a[i] = Math.random() * 256;
    for (var j = 0; j < 16; j++) out += abc[a[j] & 63];
    return out + abc[(a[0] >> 6) | ((a[1] >> 6) << 2)];
  }
  // The cookie is set only once tracking is allowed (consent mode "required").
  function visitor() {
    if (!vid) {
      vid = readCookie() || newID();
      d.cookie = "rs_vid=" + vid + "; Max-Age=" + 365 * DAY / 1000 + "; Path=/; SameSite=Lax" + (location.protocol === "https:" ? "; Secure" : "");
    }
    return vid;
  }
  function send(body) {
    try { if (navigator.sendBeacon && navigator.sendBeacon(ep, body)) return; } catch (e) {}
    try { fetch(ep, { method: "POST", body: body, keepalive: true, mode: "cors", credentials: "omit", headers: { "Content-Type": "text/plain" } }); } catch (e) {}
  }
  function flush() {
    clearTimeout(timer); timer = 0;
    if (!ok || !queue.length) return;
    var id = visitor();
    while (queue.length) {
      var b = { site: site, visitor: id, events: queue.splice(0, MAX) };
      if (needConsent) b.consent = true;
      if (ident) { b.identify = ident; ident = null; }
      send(JSON.stringify(b));
    }
  }
  function push(e) {
    e.ts = Date.now();
    queue.push(e);
    if (queue.length >= MAX) flush(); else if (!timer) timer = setTimeout(flush, 1000);
  }
  function pageView() {
    var p = {}, q = new URLSearchParams(location.search), keys = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];
    for (var i = 0; i < keys.length; i++) if (q.get(keys[i])) p[keys[i]] = q.get(keys[i]).slice(0, 200);
    push({ kind: "page_view", url: location.href.slice(0, 2000), title: d.title.slice(0, 500), referrer: d.referrer.slice(0, 2000), props: p });
  }
  function api(cmd, a, b) {
    if (cmd === "track") push({ kind: "custom", name: String(a), url: location.href.slice(0, 2000), props: b || {} });
    else if (cmd === "content") push({ kind: "content_view", asset: String(a), url: location.href.slice(0, 2000), title: d.title.slice(0, 500) });
    else if (cmd === "consent") { ok = !!a; if (ok) flush(); else queue = []; }
    else if (cmd === "visitor" && typeof a === "function") a(ok ? visitor() : null);
    else if (cmd === "flush") flush();
  }
  var pre = (w.rightsize && w.rightsize.q) || [];
  w.rightsize = api;
  pageView();
  for (var i = 0; i < pre.length; i++) api.apply(null, pre[i]);
  w.addEventListener("pagehide", flush);
  d.addEventListener("visibilitychange", function () { if (d.visibilityState === "hidden") flush(); });
})(window, document);
