/* The dashboard's charts (/editor/stats), drawn with the vendored Chart.js.
 *
 * The page carries its numbers as JSON in <script type="application/json"
 * id="chart-data"> (the strict CSP allows no inline script), and every chart has
 * a table with the same numbers beside it, so nothing here is the only way to
 * read a figure. Animations are off: the charts are there to be read.
 */
(function () {
  "use strict";

  // The page's words (editor/base.html's #editor-text, in the user's language); English if absent.
  var WORDS = (function () {
    var node = document.getElementById("editor-text");
    try { return (node && JSON.parse(node.textContent).chart) || {}; } catch (e) { return {}; }
  })();
  function say(key, fallback) { return WORDS[key] || fallback; }

  var COLORS = {
    answer: "#0b6e4f",
    clarify: "#c98a00",
    handoff: "#b3261e",
    line: "#1d2521",
    helpful: "#2e8b57",
    notHelpful: "#b3261e",
    bars: "#3b7fb6",
    p90: "#9cc3e4",
    resolution: "#6d5aa8",
    resolutionP90: "#c4b9e6",
  };

  function bars(labels, datasets, options) {
    return {
      type: "bar",
      data: { labels: labels, datasets: datasets },
      options: Object.assign(
        {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: { legend: { display: datasets.length > 1 } },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        },
        options || {}
      ),
    };
  }

  function stacked(horizontal) {
    var value = { stacked: true, beginAtZero: true, ticks: { precision: 0 } };
    var category = { stacked: true, ticks: { autoSkip: false } };
    return horizontal
      ? { indexAxis: "y", scales: { x: value, y: category } }
      : { scales: { x: { stacked: true }, y: value } };
  }

  var BUILDERS = {
    decisions: function (d) {
      return {
        type: "doughnut",
        data: {
          labels: [say("answered", "Answered"), say("clarified", "Clarified"), say("handed_off", "Handed off")],
          datasets: [
            {
              data: [d.answer, d.clarify, d.handoff],
              backgroundColor: [COLORS.answer, COLORS.clarify, COLORS.handoff],
            },
          ],
        },
        options: { responsive: true, maintainAspectRatio: false, animation: false },
      };
    },
    trend: function (d) {
      var config = bars(
        d.labels,
        [
          { type: "line", label: say("conversations", "Conversations"), data: d.conversations, borderColor: COLORS.line,
            backgroundColor: COLORS.line, pointRadius: 2, order: 0 },
          { label: say("answered", "Answered"), data: d.answer, backgroundColor: COLORS.answer, stack: "d", order: 1 },
          { label: say("clarified", "Clarified"), data: d.clarify, backgroundColor: COLORS.clarify, stack: "d", order: 1 },
          { label: say("handed_off", "Handed off"), data: d.handoff, backgroundColor: COLORS.handoff, stack: "d", order: 1 },
        ],
        stacked(false)
      );
      return config;
    },
    intents: function (d) {
      return bars(
        d.labels,
        [{ label: say("answers", "Answers given"), data: d.counts, backgroundColor: COLORS.bars }],
        { indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } },
                                    y: { ticks: { autoSkip: false } } } }
      );
    },
    feedback: function (d) {
      return bars(
        d.labels,
        [
          { label: say("not_helpful", "Not helpful"), data: d.not_helpful, backgroundColor: COLORS.notHelpful },
          { label: say("helpful", "Helpful"), data: d.helpful, backgroundColor: COLORS.helpful },
        ],
        stacked(true)
      );
    },
    handoffs: function (d) {
      return bars(
        d.labels,
        [
          { label: say("first_p50", "First response, median (min)"), data: d.first_p50, backgroundColor: COLORS.bars },
          { label: say("first_p90", "First response, p90 (min)"), data: d.first_p90, backgroundColor: COLORS.p90 },
          { label: say("resolution_p50", "Resolution, median (min)"), data: d.resolution_p50, backgroundColor: COLORS.resolution },
          { label: say("resolution_p90", "Resolution, p90 (min)"), data: d.resolution_p90, backgroundColor: COLORS.resolutionP90 },
        ],
        { scales: { y: { beginAtZero: true, title: { display: true, text: say("minutes", "minutes") } } } }
      );
    },
    hours: function (d) {
      return bars(d.labels, [{ label: say("member_messages", "Member messages"), data: d.counts, backgroundColor: COLORS.bars }]);
    },
    weekdays: function (d) {
      return bars(d.labels, [{ label: say("member_messages", "Member messages"), data: d.counts, backgroundColor: COLORS.bars }]);
    },
  };

  function draw() {
    var source = document.getElementById("chart-data");
    if (!source || typeof window.Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var name = canvas.getAttribute("data-chart");
      var build = BUILDERS[name];
      if (!build || !data[name]) return;
      new window.Chart(canvas, build(data[name]));
      canvas.setAttribute("data-drawn", "true");
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
