// Bình Yên console, statistics: draws each table's chart with Chart.js from its data-chart
// attribute (the same numbers as the table, which stays the way to read them without JavaScript).
(function () {
  "use strict";
  // Distinct colours with at least 3:1 contrast on white (WCAG 1.4.11 for graphics).
  var COLOURS = ["#1565c0", "#c62828", "#2e7d32", "#ad5700", "#6a1b9a", "#00796b", "#5d4037", "#455a64"];

  function colour(i) { return COLOURS[i % COLOURS.length]; }

  function config(spec, width) {
    var doughnut = spec.type === "doughnut";
    var datasets = spec.datasets.map(function (d, i) {
      var paint = doughnut ? d.data.map(function (_, j) { return colour(j); }) : colour(i);
      return {label: d.label, data: d.data, backgroundColor: paint, borderColor: doughnut ? "#fff" : paint,
              borderWidth: doughnut ? 2 : 1, tension: 0.2, pointRadius: 3, fill: false};
    });
    var options = {responsive: true, maintainAspectRatio: false, animation: false,
                   plugins: {legend: {display: doughnut || datasets.length > 1, position: "bottom"}}};
    if (!doughnut) {
      var value = {stacked: !!spec.stacked, beginAtZero: true, ticks: {precision: 0}};
      if (spec.log) { value = {type: "logarithmic"}; }
      // a long name (a unit's) is cut to what the box has room for; the table has it whole
      var room = Math.max(10, Math.round(width / (spec.horizontal ? 22 : 9 * Math.max(1, spec.labels.length))));
      var category = {stacked: !!spec.stacked, ticks: {autoSkip: spec.type === "line", maxRotation: spec.type === "line" ? 0 : 50,
        callback: function (v) {
          var label = String(this.getLabelForValue(v));
          return label.length > room ? label.slice(0, room - 1) + "…" : label;
        }}};
      options.indexAxis = spec.horizontal ? "y" : "x";
      options.scales = spec.horizontal ? {x: value, y: category} : {x: category, y: value};
    }
    return {type: spec.type, data: {labels: spec.labels, datasets: datasets}, options: options};
  }

  function draw() {
    if (!window.Chart) return;  // the tables say it all without the charts
    document.querySelectorAll("[data-chart]").forEach(function (box) {
      var spec = JSON.parse(box.getAttribute("data-chart"));
      var figures = [].concat.apply([], spec.datasets.map(function (d) { return d.data; }));
      if (!figures.some(function (v) { return v; })) return;  // nothing but zeros: the table says so
      if (spec.horizontal) {  // room for every bar's label
        box.style.height = Math.max(12, spec.labels.length * 1.9 + 4) + "rem";
      }
      box.hidden = false;
      new window.Chart(box.querySelector("canvas"), config(spec, box.clientWidth));
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
