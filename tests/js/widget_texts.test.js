// The widget's own texts (web/widget/texts.js): which language it picks, and that
// every text it shows exists in Dutch and English. Run with `node --test tests/js/`.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const WIDGET = path.join(__dirname, "..", "..", "web", "widget");
const source = fs.readFileSync(path.join(WIDGET, "texts.js"), "utf8");
// eslint-disable-next-line no-new-func
const { TEXTS, pickLanguage, fill } = new Function(source + "\nreturn { TEXTS, pickLanguage, fill };")();
const BOT = { bot: "nl", languages: ["nl", "en"] };

test("the script tag's data-language comes before the page's lang", () => {
  assert.equal(pickLanguage({ ...BOT, script: "en", page: "nl" }), "en");
});

test("without data-language the page's <html lang> decides, region and case ignored", () => {
  assert.equal(pickLanguage({ ...BOT, page: "en" }), "en");
  assert.equal(pickLanguage({ ...BOT, page: "EN-gb" }), "en");
  assert.equal(pickLanguage({ ...BOT, page: "nl-BE" }), "nl");
});

test("without either, the conversation's language (from the member's first message) decides", () => {
  assert.equal(pickLanguage({ ...BOT, conversation: "en" }), "en");
  assert.equal(pickLanguage({ ...BOT, page: "", script: undefined, conversation: "en" }), "en");
  // …but not over what the page says.
  assert.equal(pickLanguage({ ...BOT, page: "nl", conversation: "en" }), "nl");
});

test("the member's own choice in the header comes first", () => {
  assert.equal(pickLanguage({ ...BOT, chosen: "en", script: "nl", page: "nl", conversation: "nl" }), "en");
  assert.equal(pickLanguage({ ...BOT, chosen: "nl", script: "en", page: "en", conversation: "en" }), "nl");
});

test("a language the bot does not speak or the widget has no texts for is passed over", () => {
  assert.equal(pickLanguage({ ...BOT, page: "de" }), "nl");
  assert.equal(pickLanguage({ bot: "nl", languages: ["nl"], page: "en" }), "nl");
  assert.equal(pickLanguage({ bot: "de", languages: ["de"] }), "en"); // English, never nothing
});

test("before the bot's settings are in, the page's language is taken as it is", () => {
  assert.equal(pickLanguage({ bot: "nl", languages: null, page: "en" }), "en");
  assert.equal(pickLanguage({ bot: "nl", languages: null }), "nl");
});

test("Dutch and English have the same texts, none empty", () => {
  assert.deepEqual(Object.keys(TEXTS.nl).sort(), Object.keys(TEXTS.en).sort());
  for (const lang of ["nl", "en"]) {
    for (const [key, text] of Object.entries(TEXTS[lang])) assert.ok(text.trim(), `${lang}.${key} is empty`);
  }
});

test("every text the widget's code asks for is in both tables", () => {
  const code = ["view.js", "transport.js", "main.js"].map((f) => fs.readFileSync(path.join(WIDGET, f), "utf8")).join("\n");
  const asked = new Set([...code.matchAll(/\bT\.(\w+)/g)].map((m) => m[1]));
  // The transport names alerts and notices by key.
  for (const m of code.matchAll(/view\.(?:alert|notice)\("(\w+)"/g)) asked.add(m[1]);
  for (const m of code.matchAll(/\? "(\w+)"/g)) asked.add(m[1]);
  assert.ok(asked.size > 30, [...asked].join(" "));
  for (const key of asked) {
    assert.ok(key in TEXTS.nl, `TEXTS.nl has no '${key}'`);
    assert.ok(key in TEXTS.en, `TEXTS.en has no '${key}'`);
  }
});

test("the Dutch texts are Dutch and the English ones English", () => {
  assert.equal(TEXTS.nl.placeholder, "Typ je vraag…");
  assert.equal(TEXTS.nl.newConversation, "Nieuw gesprek");
  assert.match(TEXTS.nl.waiting, /^Je wacht op een medewerker/);
  assert.equal(TEXTS.en.placeholder, "Type your question…");
  assert.equal(TEXTS.en.newConversation, "New conversation");
  assert.match(TEXTS.en.waiting, /^You're waiting for a staff member/);
});

test("the kind 429 message names the seconds from Retry-After", () => {
  assert.equal(fill(TEXTS.nl.slow, { seconds: 30 }), "Even rustig aan — probeer het over 30 seconden opnieuw.");
  assert.equal(fill(TEXTS.en.slow, { seconds: 30 }), "Easy does it — please try again in 30 seconds.");
  assert.equal(fill(TEXTS.nl.position, {}), TEXTS.nl.position); // nothing to fill: unchanged
});
