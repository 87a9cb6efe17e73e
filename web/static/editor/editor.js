/* The editor's small enhancements: list rows, Markdown toolbar and preview, "try it",
   and filtering the intent list. Text from the server is inserted with textContent;
   only HTML that the server sanitized (render_markdown) goes into innerHTML. */
(function () {
  "use strict";
  var body = document.body;
  var csrf = body.dataset.csrf;
  // The page's words (editor/base.html's #editor-text, in the user's language); English if absent.
  var words = (function () {
    var node = document.getElementById("editor-text");
    try { return node ? JSON.parse(node.textContent) : {}; } catch (e) { return {}; }
  })();
  function say(key, fallback, values) {
    var text = words[key] || fallback;
    Object.keys(values || {}).forEach(function (name) { text = text.split("{" + name + "}").join(values[name]); });
    return text;
  }

  function post(url, data, json) {
    var headers = { "X-CSRF-Token": csrf, "Accept": "application/json" };
    if (json) headers["Content-Type"] = "application/json";
    return fetch(url, {
      method: "POST", headers: headers, credentials: "same-origin",
      body: json ? JSON.stringify(data) : data
    }).then(function (r) {
      return r.json().catch(function () { return { ok: false, error: "unexpected answer (" + r.status + ")" }; });
    });
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* -- rows: questions and buttons -------------------------------------------- */
  function syncKind(row) {
    var kind = row.querySelector("[data-kind]");
    if (!kind) return;
    row.querySelectorAll("[data-show]").forEach(function (f) {
      f.hidden = f.dataset.show !== kind.value;
    });
  }
  document.querySelectorAll(".button-row").forEach(syncKind);

  var handoffMode = document.getElementById("handoff-mode");
  function syncHandoff() {
    document.getElementById("handoff-team").hidden = handoffMode.value !== "team";
  }
  if (handoffMode) {
    handoffMode.addEventListener("change", syncHandoff);
    syncHandoff();
  }

  document.addEventListener("change", function (e) {
    if (e.target.matches("[data-kind]")) syncKind(e.target.closest(".row"));
  });

  document.addEventListener("click", function (e) {
    var t = e.target.closest("button");
    if (!t) return;
    var row = t.closest(".row");
    if (t.hasAttribute("data-remove") && row) {
      var list = row.parentNode;
      row.remove();
      if (list.id === "questions" && !list.querySelector(".row")) addRow("questions");
      changed();
    } else if (t.dataset.move && row) {
      var sibling = t.dataset.move === "-1" ? row.previousElementSibling : row.nextElementSibling;
      if (sibling) {
        if (t.dataset.move === "-1") row.parentNode.insertBefore(row, sibling);
        else row.parentNode.insertBefore(sibling, row);
        t.focus();
        changed();
      }
    } else if (t.dataset.add) {
      addRow(t.dataset.add).querySelector("input").focus();
    } else if (t.dataset.md) {
      markdown(t.dataset.md, document.getElementById(t.closest(".toolbar").dataset.for));
    }
  });

  function addRow(listId) {
    var list = document.getElementById(listId);
    var row;
    if (listId === "buttons") {
      row = document.getElementById("button-template").content.firstElementChild.cloneNode(true);
    } else {
      var last = list.querySelector(".row:last-child");
      if (last && !last.querySelector("input").value) return last;
      row = list.querySelector(".row").cloneNode(true);
      row.classList.remove("invalid");
      row.querySelectorAll(".field-problem").forEach(function (p) { p.remove(); });
      row.querySelector("input").value = "";
    }
    list.appendChild(row);
    syncKind(row);
    return row;
  }

  /* -- Markdown toolbar and live preview ---------------------------------------- */
  function markdown(kind, area) {
    if (!area) return;
    var s = area.selectionStart, e = area.selectionEnd, v = area.value, sel = v.slice(s, e);
    var out;
    if (kind === "bold") out = "**" + (sel || "vet") + "**";
    else if (kind === "italic") out = "*" + (sel || "schuin") + "*";
    else if (kind === "link") out = "[" + (sel || "tekst") + "](https://)";
    else out = (sel || "punt").split("\n").map(function (l) { return "- " + l.replace(/^- /, ""); }).join("\n");
    if (kind === "list" && s > 0 && v[s - 1] !== "\n") out = "\n" + out;
    area.setRangeText(out, s, e, "select");
    area.focus();
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }

  var answer = document.getElementById("answer");
  var preview = document.getElementById("answer-preview");
  var timer = null;
  function renderPreview() {
    post(body.dataset.previewUrl, { text: answer.value }, true).then(function (data) {
      if (data && typeof data.html === "string") preview.innerHTML = data.html; // sanitized by the server
    });
  }
  if (answer && preview) {
    answer.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(renderPreview, 200);
    });
    renderPreview();
  }

  /* -- try it ------------------------------------------------------------------- */
  var tryForm = document.getElementById("try-form");
  var intentForm = document.getElementById("intent-form");
  var dirty = false;
  function changed() { dirty = true; }
  if (intentForm) intentForm.addEventListener("input", changed);

  if (tryForm && intentForm) {
    var result = document.getElementById("try-result");
    tryForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var data = new URLSearchParams(new FormData(intentForm));
      data.set("question", document.getElementById("try-question").value);
      result.replaceChildren(el("p", "muted", say("asking", "Asking…")));
      post(body.dataset.tryUrl, data).then(function (r) { showTry(result, r); });
    });
  }

  function showTry(result, r) {
    result.replaceChildren();
    if (!r.ok) {
      result.appendChild(el("p", "field-problem", r.error || say("failed", "that did not work")));
      (r.problems || []).forEach(function (p) { result.appendChild(el("p", "field-problem", p.text)); });
      return;
    }
    var decisions = words.decisions || { answer: "Answers", clarify: "Asks “Did you mean…?”", handoff: "Hands over to a colleague" };
    result.appendChild(el("p", "decision " + r.decision, decisions[r.decision] || r.decision));
    if (r.answer) {
      var bubble = el("div", "bubble");
      bubble.innerHTML = r.answer.html; // sanitized by the server (render_markdown)
      result.appendChild(bubble);
      if (r.answer.buttons.length) {
        var chips = el("div", "chips");
        r.answer.buttons.forEach(function (b) { chips.appendChild(el("span", "", b)); });
        result.appendChild(chips);
      }
      if (r.answer.handoff_team) result.appendChild(el("p", "hint", say("then_team", "Then hands over to team {team}.", { team: r.answer.handoff_team })));
    } else if (r.options && r.options.length) {
      result.appendChild(el("p", "hint", say("offers", "Offers: {options}", { options: r.options.join(", ") })));
    }
    result.appendChild(el("p", "hint", say("top_intents", "Top intents (answers above {threshold}):", { threshold: r.thresholds.answer.toFixed(2) })));
    var list = el("ol", "scores");
    r.candidates.forEach(function (c) {
      var li = el("li", c.intent === r.edited ? "edited" : "");
      li.appendChild(el("span", "", c.intent));
      li.appendChild(el("span", "", c.score.toFixed(2)));
      list.appendChild(li);
    });
    result.appendChild(list);
  }

  /* -- filter the intent list as you type --------------------------------------- */
  var filter = document.querySelector("[data-filter]");
  if (filter) {
    filter.addEventListener("input", function () {
      var needle = filter.value.trim().toLowerCase();
      document.querySelectorAll(filter.dataset.filter + " tr[data-search]").forEach(function (tr) {
        tr.hidden = needle !== "" && tr.dataset.search.toLowerCase().indexOf(needle) === -1;
      });
      document.querySelectorAll(filter.dataset.filter + " section.group").forEach(function (g) {
        g.hidden = !g.querySelector("tr[data-search]:not([hidden])");
      });
    });
  }
})();
