/*
 * botbuilder chat widget: one tag on any site.
 *
 *   <script src="https://bot.example.org/widget.js" defer
 *           data-language="nl" data-position="right" data-open="false"></script>
 *
 * Plain JavaScript, no framework, no requests beyond the server this script
 * came from (or `data-server`). Everything the widget shows that comes from a
 * member, an agent or a flow goes in through textContent, except the `html`
 * field of bot and agent messages: the server sanitizes it (markdown-it with
 * raw HTML off, then nh3), and `safeFragment` below re-checks it against the
 * same short allow-list, so one mistake on either side is not enough for a
 * script to run.
 *
 * Why Shadow DOM and not an iframe:
 * - One request and no second document: the launcher is in the page within a
 *   few milliseconds of this script running; an iframe would load another
 *   HTML page (and its script) on every page view before it could show anything.
 * - The panel is part of the page's focus order and accessibility tree, so
 *   Tab, Escape and "focus returns to the launcher" work natively, screen
 *   readers announce the live region like any page content, and the page's
 *   viewport, zoom and prefers-reduced-motion apply directly. Across an iframe
 *   each of these needs postMessage plumbing and still behaves worse.
 * - Isolation is enough: host selectors cannot reach into a shadow tree and
 *   ours cannot leak out. What does cross is inheritance (font, colour,
 *   line-height…) and rules that match the host element itself; `:host` resets
 *   all of it with `all: initial !important`, and in the cascade an !important
 *   declaration of the shadow context beats the page's !important, so even
 *   `* { display: none !important }` cannot hide the widget.
 * - An iframe's separate JavaScript realm would protect nothing that matters:
 *   the host page runs this script anyway, and member, agent and flow content
 *   is never executed here.
 * The shadow root is open: a closed one adds no protection against a page
 * that could patch attachShadow before we run, and it would hide the widget
 * from testing tools and browser extensions that help people read pages.
 */
