/* Manager dashboard charts. Data comes from the json_script element "dashboard-data" (CSP: no inline scripts). */
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
  var common = { responsive: true, maintainAspectRatio: false, animation: false };

  function chart(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) { new Chart(canvas, config); }
  }

  chart("chart-trend", {
    data: {
      labels: data.trend.labels,
      datasets: [
        { type: "bar", label: "Requests filed", data: data.trend.filed, backgroundColor: blue, yAxisID: "y" },
        { type: "line", label: "Median time to answer (business h)", data: data.trend.median, borderColor: orange,
          backgroundColor: orange, spanGaps: true, yAxisID: "hours" },
        { type: "line", label: "Answer SLA met %", data: data.trend.met, borderColor: green, backgroundColor: green,
          spanGaps: true, yAxisID: "pct" }
      ]
    },
    options: Object.assign({}, common, {
      scales: {
        y: { beginAtZero: true, position: "left", title: { display: true, text: "requests" } },
        hours: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "hours" } },
        pct: { min: 0, max: 100, display: false }
      }
    })
  });

  chart("chart-departments", {
    type: "bar",
    data: {
      labels: data.departments.labels,
      datasets: [
        { label: "Median assessment time (business h)", data: data.departments.median, backgroundColor: blue, xAxisID: "x" },
        { label: "Own due met %", data: data.departments.met, backgroundColor: "rgba(25, 135, 84, 0.6)", xAxisID: "pct" }
      ]
    },
    options: Object.assign({}, common, {
      indexAxis: "y",
      scales: { x: { beginAtZero: true, position: "bottom" }, pct: { min: 0, max: 100, position: "top" } }
    })
  });

  chart("chart-pareto", {
    data: {
      labels: data.pareto.labels,
      datasets: [
        { type: "bar", label: "Requests blocked or bent", data: data.pareto.requests, backgroundColor: blue, yAxisID: "y" },
        { type: "line", label: "Cumulative share %", data: data.pareto.cumulative, borderColor: orange,
          backgroundColor: orange, yAxisID: "pct" }
      ]
    },
    options: Object.assign({}, common, {
      scales: {
        y: { beginAtZero: true, title: { display: true, text: "requests" } },
        pct: { min: 0, max: 100, position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "%" } }
      }
    })
  });
})();
