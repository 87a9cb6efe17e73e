// A manager's announcements (a cancelled ride, an outage), shown at the top of the open
// chat. Asked for every second while the chat is open and the page visible; the server
// answers with an ETag and the browser revalidates, so an unchanged list costs a 304.

var noticesTimer = null;

function watchNotices() {
  if (noticesTimer === null) checkNotices();
}

function checkNotices() {
  noticesTimer = isOpen ? setTimeout(checkNotices, 1000) : null;
  if (!isOpen || document.hidden || !built) return;
  // A language the bot does not speak would be refused: then the bot's own is asked for.
  var known = config && config.languages && config.languages.indexOf(lang) >= 0;
  var query = known ? "?language=" + encodeURIComponent(lang) : "";
  fetch(base + "/api/v1/announcements" + query, { credentials: "omit" })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (json) { if (json) showNotices(json.announcements || []); })
    .catch(function () { /* offline or refused: keep what is shown */ });
}

function showNotices(list) {
  var shown = Array.prototype.map.call(noticesEl.children, function (p) { return p.textContent; });
  var texts = list.map(function (a) { return String(a.text || ""); });
  if (shown.join("\n") === texts.join("\n")) return;
  noticesEl.replaceChildren();
  texts.forEach(function (text) { noticesEl.appendChild(el("p", "notice", text)); });
  noticesEl.hidden = texts.length === 0;
}
