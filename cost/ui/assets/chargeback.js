// Draws the chargeback page's stacked bar chart from the JSON the server
// rendered into #chart-data, then records on the canvas that it did (and
// how many pixels it painted), which the page's browser test reads.
(function () {
  "use strict";
  var canvas = document.getElementById("chart");
  var source = document.getElementById("chart-data");
  if (!canvas || !source || typeof Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];
  var chart = new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: data.datasets.map(function (d, i) {
        return { label: d.label, data: d.values, backgroundColor: d.idle ? "#c7c7c7" : palette[i % palette.length] };
      })
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: {
        x: { stacked: true },
        y: { stacked: true, beginAtZero: true, title: { display: true, text: data.currency } }
      },
      plugins: { title: { display: true, text: data.title } }
    }
  });
  var painted = 0;
  var px = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  for (var i = 3; i < px.length; i += 4) {
    if (px[i] !== 0) {
      painted++;
    }
  }
  canvas.dataset.datasets = String(chart.data.datasets.length);
  canvas.dataset.painted = String(painted);
  canvas.dataset.rendered = "true";
})();
