// The pipeline board: drag a card to another stage column. The move is a
// PATCH of the deal's stage through the API (the session cookie authenticates
// same-origin scripts); a refused move (422 gate_unmet) shows the unmet exit
// criteria on the card, which stays where it was. Without this script each
// card's "Move to" form does the same through the server.
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board) return;
  var dragged = null;

  function refusal(card, title, items) {
    var box = card.querySelector("[data-refusal]");
    box.textContent = "";
    var p = document.createElement("p");
    p.className = "small strong";
    p.textContent = title;
    box.appendChild(p);
    if (items.length) {
      var ul = document.createElement("ul");
      ul.className = "small";
      items.forEach(function (u) {
        var li = document.createElement("li");
        li.textContent = u.message;
        if (u.code) li.setAttribute("data-code", u.code);
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
    box.hidden = false;
    card.classList.add("refused");
  }

  // The column counts cover every open deal, not only the shown cards.
  function bump(col, by) {
    var n = col.querySelector("[data-count]");
    n.textContent = String(parseInt(n.textContent, 10) + by);
  }

  // Column amounts are sums the server knows (every deal, every currency):
  // after a move, read them again from a fresh render of this page.
  function refreshAmounts() {
    fetch(location.href, { credentials: "same-origin" }).then(function (res) {
      return res.ok ? res.text() : null;
    }).then(function (html) {
      if (!html) return;
      var doc = new DOMParser().parseFromString(html, "text/html");
      board.querySelectorAll(".board-col").forEach(function (col) {
        var fresh = doc.querySelector('.board-col[data-stage="' + col.getAttribute("data-stage") + '"] [data-amount]');
        var cur = col.querySelector("[data-amount]");
        if (fresh && cur) cur.textContent = fresh.textContent;
      });
    }).catch(function () {});
  }

  board.addEventListener("dragstart", function (e) {
    var card = e.target.closest && e.target.closest(".board-card");
    if (!card) return;
    dragged = card;
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", card.getAttribute("data-deal"));
  });
  board.addEventListener("dragover", function (e) {
    if (dragged && e.target.closest(".board-col")) e.preventDefault();
  });
  board.addEventListener("drop", function (e) {
    var col = e.target.closest(".board-col");
    if (!col || !dragged) return;
    e.preventDefault();
    var card = dragged;
    dragged = null;
    var from = card.closest(".board-col");
    if (from === col) return;
    var stage = col.getAttribute("data-stage");
    card.classList.add("moving");
    fetch("/api/v1/deals/" + card.getAttribute("data-deal"), {
      method: "PATCH",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ stage: stage })
    }).then(function (res) {
      return res.json().then(function (body) { return { res: res, body: body }; });
    }).then(function (r) {
      card.classList.remove("moving");
      if (r.res.ok) {
        card.querySelector("[data-refusal]").hidden = true;
        card.classList.remove("refused");
        col.querySelector(".board-cards").prepend(card);
        var sel = card.querySelector("select[name=stage]");
        if (sel) sel.value = stage;
        var days = card.querySelector("[data-days]");
        if (days) days.textContent = "0 d in stage";
        var stale = card.querySelector("[data-stale]");
        if (stale) stale.remove();
        card.classList.remove("stale");
        bump(from, -1);
        bump(col, 1);
        refreshAmounts();
        return;
      }
      var b = r.body || {};
      var unmet = (b.extra && b.extra.unmet) || [];
      refusal(card, b.code === "gate_unmet" ? "Move refused — unmet exit criteria:" : (b.detail || "Move refused"), unmet);
    }).catch(function () {
      card.classList.remove("moving");
      refusal(card, "The move could not be sent; try the Move menu.", []);
    });
  });
})();
