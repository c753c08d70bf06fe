/* Manager dashboard charts. Data comes from the json_script element "dashboard-data" (CSP: no inline scripts).
   One unit per chart: a count, business hours, or percentages, each on its own axis. */
(function () {
  "use strict";
  var printButton = document.getElementById("print-dashboard");
  if (printButton) {
    printButton.addEventListener("click", function () { window.print(); });
  }
  // Paper shows every number: open the collapsed tables before printing.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
  var source = document.getElementById("dashboard-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var blue = "rgba(13, 110, 253, 0.7)", orange = "rgba(253, 126, 20, 1)", green = "rgba(25, 135, 84, 1)";
  var purple = "rgba(111, 66, 193, 1)";
  var common = { responsive: true, maintainAspectRatio: false, animation: false };

  function chart(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) { new Chart(canvas, config); }
  }

  function axis(title, extra) {
    return Object.assign({ beginAtZero: true, title: { display: true, text: title } }, extra || {});
  }

  var percent = axis("%", { min: 0, max: 100 });

  chart("chart-trend-filed", {
    type: "bar",
    data: { labels: data.trend.labels, datasets: [{ label: "Requests filed", data: data.trend.filed, backgroundColor: blue }] },
    options: Object.assign({}, common, { scales: { y: axis("requests") } })
  });

  chart("chart-trend-median", {
    type: "line",
    data: {
      labels: data.trend.labels,
      // spanGaps false: a week with too few answers stays a gap instead of a dip to its one value
      datasets: [{ label: "Median time to answer", data: data.trend.median, borderColor: orange,
                   backgroundColor: orange, spanGaps: false }]
    },
    options: Object.assign({}, common, { scales: { y: axis("business hours") } })
  });

  chart("chart-trend-met", {
    type: "line",
    data: {
      labels: data.trend.labels,
      datasets: [
        { label: "Answer SLA met", data: data.trend.answer_met, borderColor: green, backgroundColor: green, spanGaps: false },
        { label: "Acknowledge SLA met", data: data.trend.ack_met, borderColor: purple, backgroundColor: purple, spanGaps: false }
      ]
    },
    options: Object.assign({}, common, { scales: { y: percent } })
  });

  chart("chart-departments-median", {
    type: "bar",
    data: { labels: data.departments.labels,
            datasets: [{ label: "Median assessment time", data: data.departments.median, backgroundColor: blue }] },
    options: Object.assign({}, common, { indexAxis: "y", scales: { x: axis("business hours") } })
  });

  chart("chart-departments-met", {
    type: "bar",
    data: { labels: data.departments.labels,
            datasets: [{ label: "Own due met", data: data.departments.met, backgroundColor: "rgba(25, 135, 84, 0.7)" }] },
    options: Object.assign({}, common, { indexAxis: "y", scales: { x: percent } })
  });

  // A Pareto chart: requests on the left axis, their cumulative share on the right one.
  chart("chart-pareto", {
    data: {
      labels: data.pareto.labels,
      datasets: [
        { type: "bar", label: "Requests affected", data: data.pareto.requests, backgroundColor: blue, yAxisID: "y" },
        { type: "line", label: "Cumulative share", data: data.pareto.cumulative, borderColor: orange,
          backgroundColor: orange, yAxisID: "pct" }
      ]
    },
    options: Object.assign({}, common, {
      scales: {
        y: axis("requests"),
        pct: axis("%", { min: 0, max: 100, position: "right", grid: { drawOnChartArea: false } })
      }
    })
  });
})();
