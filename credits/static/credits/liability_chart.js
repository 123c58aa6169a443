/* The liability report's chart (Chart.js), from the figures the page carries in #liability-data, in the
   account's currency (the figures are minor units; `digits` says how many the currency has), and its
   account picker. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    // The account picker sends its form when an account is chosen (no inline handler: the page's CSP).
    var picker = document.querySelector("#report-account select[name=account]");
    if (picker) {
      picker.addEventListener("change", function () { picker.form.submit(); });
    }
    var source = document.getElementById("liability-data");
    if (!source || typeof Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var scale = Math.pow(10, data.digits || 0);
    var colors = {issued: "#417690", used: "#70bf2b", expired: "#efb80b", revoked: "#ba2121", outstanding: "#666"};
    var datasets = Object.keys(data.series).map(function (name) {
      return {
        label: name + " (" + data.currency + ")",
        data: data.series[name].map(function (minor) { return minor / scale; }),
        type: name === "outstanding" ? "line" : "bar",
        borderColor: colors[name],
        backgroundColor: colors[name]
      };
    });
    window.liabilityChart = new Chart(document.getElementById("liability-chart"), {
      type: "bar",
      data: {labels: data.labels, datasets: datasets},
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {y: {title: {display: true, text: data.currency}}}
      }
    });
  });
})();
