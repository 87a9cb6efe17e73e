// Everything the widget says, per language. The view picks one table (`T`)
// with `pickLanguage` below; the transport names its alerts by key
// (`"offline"`, `"busy"`…) so it needs no table of its own.
var TEXTS = {
  nl: {
    open: "Open de chat", close: "Sluit de chat", title: "Chat",
    newMessages: "nieuwe berichten", input: "Je bericht", placeholder: "Typ je vraag…",
    send: "Verstuur", person: "Medewerker spreken", newConversation: "Nieuw gesprek",
    personText: "Ik wil een medewerker spreken", typing: "Er wordt getypt…",
    you: "Jij", bot: "Bot", agent: "Medewerker", log: "Gesprek",
    helpful: "Dit antwoord hielp", notHelpful: "Dit antwoord hielp niet",
    thanks: "Bedankt voor je reactie!",
    offer: "Jammer dat dit niet hielp. Wil je met een medewerker praten?",
    offerYes: "Ja, met een medewerker", newTab: "(opent in een nieuw tabblad)",
    waiting: "Je wacht op een medewerker. Je kunt hier alvast verder typen.",
    agentState: "Je praat nu met een medewerker.",
    closed: "Dit gesprek is gesloten.", startNew: "Begin een nieuw gesprek",
    retry: "Opnieuw proberen", notSent: "Nog niet verstuurd", failed: "Niet verstuurd",
    offline: "Je bent offline. Je bericht wordt verstuurd zodra je weer verbinding hebt.",
    network: "We kunnen de chat nu niet bereiken. Controleer je verbinding; we proberen het zo opnieuw.",
    server: "Er ging iets mis aan onze kant. Probeer het zo nog eens.",
    busy: "Het is even erg druk. Probeer het over een paar seconden opnieuw.",
    tooLong: "Je bericht is te lang. Maak het korter en probeer het opnieuw.",
    stale: "Die keuze kan nu niet meer. Typ je vraag, dan help ik je verder.",
    isClosed: "Dit gesprek is al gesloten. Begin een nieuw gesprek om verder te gaan.",
    expired: "Je vorige gesprek bestaat niet meer, dus we zijn een nieuw gesprek begonnen.",
    refused: "Deze chat is niet beschikbaar op deze website. Neem op een andere manier contact met ons op.",
    slow: "Even rustig aan — probeer het over {seconds} seconden opnieuw.",
    backToBot: "Stop met wachten, terug naar de bot",
    position: "Je bent nummer {position} in de wachtrij.",
    privacy: "We bewaren dit gesprek om je te kunnen helpen.",
    privacyLink: "Zo gaan we om met je gegevens",
    languages: "Taal van de chat",
    languageName: "Nederlands"
  },
  en: {
    open: "Open the chat", close: "Close the chat", title: "Chat",
    newMessages: "new messages", input: "Your message", placeholder: "Type your question…",
    send: "Send", person: "Talk to a person", newConversation: "New conversation",
    personText: "I want to talk to a person", typing: "Typing…",
    you: "You", bot: "Bot", agent: "Staff member", log: "Conversation",
    helpful: "This answer helped", notHelpful: "This answer did not help",
    thanks: "Thanks for letting us know!",
    offer: "Sorry that didn't help. Would you like to talk to a person?",
    offerYes: "Yes, talk to a person", newTab: "(opens in a new tab)",
    waiting: "You're waiting for a staff member. You can keep typing here.",
    agentState: "You're now talking to a staff member.",
    closed: "This conversation is closed.", startNew: "Start a new conversation",
    retry: "Try again", notSent: "Not sent yet", failed: "Not sent",
    offline: "You're offline. Your message will be sent as soon as you're back online.",
    network: "We can't reach the chat right now. Check your connection; we'll try again shortly.",
    server: "Something went wrong on our side. Please try again in a moment.",
    busy: "It's very busy right now. Please try again in a few seconds.",
    tooLong: "Your message is too long. Please shorten it and try again.",
    stale: "That choice is no longer available. Type your question and I'll help you.",
    isClosed: "This conversation is already closed. Start a new one to continue.",
    expired: "Your previous conversation no longer exists, so we started a new one.",
    refused: "This chat isn't available on this website. Please contact us another way.",
    slow: "Easy does it — please try again in {seconds} seconds.",
    backToBot: "Stop waiting, back to the bot",
    position: "You are number {position} in the queue.",
    privacy: "We keep this conversation so we can help you.",
    privacyLink: "How we handle your data",
    languages: "Chat language",
    languageName: "English"
  }
};

// The language of the widget's own texts, the first of these that the widget
// has texts for and the bot speaks (`languages`, once the settings are in):
// the member's own choice in the header, the script tag's data-language, the
// page's <html lang>, the conversation's language (the server follows the
// language of the member's messages), and else the bot's main language.
function pickLanguage(o) {
  var order = [o.chosen, o.script, o.page, o.conversation, o.bot];
  for (var i = 0; i < order.length; i++) {
    var code = String(order[i] || "").toLowerCase().split("-")[0];
    if (code && TEXTS[code] && (!o.languages || o.languages.indexOf(code) >= 0)) return code;
  }
  return TEXTS[o.bot] ? o.bot : "en";
}

// "{seconds}" and the like filled in; a missing value leaves the text as it is.
function fill(text, values) {
  return text.replace(/\{(\w+)\}/g, function (all, name) { return values[name] != null ? values[name] : all; });
}
