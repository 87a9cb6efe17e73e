/* Unsaved changes are never lost silently: leaving a changed form asks first,
   and the form is kept in this browser as a draft that is offered back on return.
   Forms opt in with data-draft-key; the draft is dropped once the server says "saved". */
(function () {
  "use strict";
  var PREFIX = "botbuilder-draft:";
  var SUBMITTED = "botbuilder-draft-submitted";
  var form = document.querySelector("form[data-draft-key]");
  var store = window.localStorage, session = window.sessionStorage;
  // The page's words (editor/base.html's #editor-text, in the user's language); English if absent.
  var words = (function () {
    var node = document.getElementById("editor-text");
    try { return node ? JSON.parse(node.textContent) : {}; } catch (e) { return {}; }
  })();

  // A save that the server confirmed (the green "Saved" banner) ends its draft.
  var submitted = session.getItem(SUBMITTED);
  if (submitted) {
    session.removeItem(SUBMITTED);
    if (document.querySelector(".banner.ok[role=status]")) store.removeItem(PREFIX + submitted);
  }
  if (!form) return;

  var key = PREFIX + form.dataset.draftKey;
  var dirty = false, timer = null;

  function values() {
    var out = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrf_token" && name !== "revision" && typeof value === "string") out.push([name, value]);
    });
    return out;
  }
  function same(a, b) { return JSON.stringify(trim(a)) === JSON.stringify(trim(b)); }
  function trim(pairs) { return pairs.filter(function (p) { return p[1] !== ""; }); }

  function save() {
    timer = null;
    store.setItem(key, JSON.stringify({ at: Date.now(), values: values() }));
  }
  form.addEventListener("input", function () {
    dirty = true;
    if (timer) clearTimeout(timer);
    timer = setTimeout(save, 400);
  });
  form.addEventListener("click", function (e) {
    // Adding, removing or moving rows changes the form without an input event.
    if (e.target.closest("button[type=button]")) { dirty = true; setTimeout(save, 0); }
  });
  form.addEventListener("submit", function () {
    if (timer) { clearTimeout(timer); save(); }
    dirty = false;
    session.setItem(SUBMITTED, form.dataset.draftKey);
  });
  window.addEventListener("beforeunload", function (e) {
    if (!dirty) return;
    e.preventDefault();
    e.returnValue = "";  // the browser asks "Leave site? Changes you made may not be saved."
  });

  function restore(pairs) {
    var byName = {};
    pairs.forEach(function (p) { (byName[p[0]] = byName[p[0]] || []).push(p[1]); });
    Object.keys(byName).forEach(function (name) {
      var wanted = byName[name];
      var fields = form.querySelectorAll("[name='" + name + "']");
      if (fields.length && fields[0].type === "radio") {
        fields.forEach(function (f) { f.checked = wanted.indexOf(f.value) >= 0; });
        return;
      }
      if (fields.length && fields[0].type === "checkbox") {
        fields[0].checked = wanted.length > 0;
        return;
      }
      var list = fields.length ? fields[0].closest(".rows") : null;
      for (var i = 0; i < wanted.length; i++) {
        fields = form.querySelectorAll("[name='" + name + "']");
        if (i >= fields.length && list) {
          var add = form.querySelector("[data-add='" + list.id + "']");
          if (add) add.click();
          fields = form.querySelectorAll("[name='" + name + "']");
        }
        if (fields[i]) fields[i].value = wanted[i];
      }
      for (var j = wanted.length; j < fields.length; j++) fields[j].value = "";
    });
    form.querySelectorAll("select, input").forEach(function (f) {
      f.dispatchEvent(new Event("change", { bubbles: true }));
    });
    var answer = form.querySelector("#answer");
    if (answer) answer.dispatchEvent(new Event("input", { bubbles: true }));
  }

  var kept = null;
  try { kept = JSON.parse(store.getItem(key) || "null"); } catch (e) { kept = null; }
  if (!kept || !kept.values || same(kept.values, values())) return;

  var when = new Date(kept.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  var banner = document.createElement("section");
  banner.className = "banner warn";
  banner.id = "draft-offer";
  banner.setAttribute("role", "alert");
  var text = document.createElement("p");
  text.textContent = (words.draft_offer || "You left unsaved changes here at {time}. Restore them?").split("{time}").join(when);
  var yes = document.createElement("button");
  yes.type = "button";
  yes.id = "draft-restore";
  yes.className = "primary";
  yes.textContent = words.draft_restore || "Restore my changes";
  var no = document.createElement("button");
  no.type = "button";
  no.id = "draft-discard";
  no.textContent = words.draft_discard || "Discard them";
  banner.append(text, yes, " ", no);
  form.parentNode.parentNode.insertBefore(banner, form.parentNode);
  yes.addEventListener("click", function () {
    restore(kept.values);
    dirty = true;
    banner.remove();
    form.querySelector("input:not([type=hidden]), textarea").focus();
  });
  no.addEventListener("click", function () {
    store.removeItem(key);
    banner.remove();
  });
})();
