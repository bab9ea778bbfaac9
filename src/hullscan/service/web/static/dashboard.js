/* hullscan dashboard: the trend chart and client-side table search. No inline script runs:
   the Content-Security-Policy allows only files from this site. */
(function () {
  "use strict";

  function drawTrend() {
    var data = document.getElementById("trend-data");
    var canvas = document.getElementById("trend-chart");
    if (!data || !canvas || typeof Chart === "undefined") { return; }
    var trend = JSON.parse(data.textContent);
    Chart.defaults.animation = false;
    Chart.defaults.font.family = "system-ui, sans-serif";
    new Chart(canvas, {
      type: "line",
      data: {
        labels: trend.days,
        datasets: [
          {label: "Failing images (STOP)", data: trend.failing, borderColor: "#b42318",
           backgroundColor: "#b42318", yAxisID: "images"},
          {label: "Critical findings", data: trend.critical, borderColor: "#6e40c9",
           backgroundColor: "#6e40c9", yAxisID: "findings"},
          {label: "High findings", data: trend.high, borderColor: "#a33b00",
           backgroundColor: "#a33b00", borderDash: [6, 4], yAxisID: "findings"}
        ]
      },
      options: {
        maintainAspectRatio: false,
        spanGaps: false,
        scales: {
          images: {type: "linear", position: "left", beginAtZero: true,
                   title: {display: true, text: "images"}, ticks: {precision: 0}},
          findings: {type: "linear", position: "right", beginAtZero: true,
                     title: {display: true, text: "findings"}, ticks: {precision: 0},
                     grid: {drawOnChartArea: false}}
        }
      }
    });
  }

  function bindSearch(root) {
    (root || document).querySelectorAll("[data-filter-table]").forEach(function (form) {
      if (form.dataset.bound) { return; }
      form.dataset.bound = "1";
      var table = document.getElementById(form.dataset.filterTable);
      var text = form.querySelector("input[type=search]");
      var severity = form.querySelector("select[name=severity]");
      var status = document.getElementById(form.dataset.filterTable + "-count");
      function apply() {
        var query = text ? text.value.trim().toLowerCase() : "";
        var wanted = severity ? severity.value : "";
        var shown = 0;
        table.querySelectorAll("tbody tr").forEach(function (row) {
          var ok = (query === "" || row.textContent.toLowerCase().indexOf(query) >= 0) &&
                   (wanted === "" || row.dataset.severity === wanted);
          row.hidden = !ok;
          if (ok) { shown += 1; }
        });
        if (status) { status.textContent = shown + " shown"; }
      }
      form.addEventListener("input", apply);
      form.addEventListener("change", apply);
      form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
      apply();
    });
  }

  document.addEventListener("DOMContentLoaded", function () { drawTrend(); bindSearch(); });
  document.addEventListener("htmx:afterSwap", function (event) { bindSearch(event.target); });
})();
