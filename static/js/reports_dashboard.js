// The sales dashboard: the filter shows its date fields only for a custom period, and ECharts draws
// the funnel, the forecast and the conversion from the data the page carries (json_script
// "dashboard-data"). Clicking a bar opens the deals behind it. Tooltips are drawn
// on the canvas (renderMode "richText"): ECharts' HTML tooltips carry style attributes the CSP blocks.
(function () {
  "use strict";

  function toggleCustom(form) {
    var select = form.querySelector("select[name=period]");
    if (!select) { return; }
    var show = function () {
      form.querySelectorAll(".dashboard-custom").forEach(function (field) {
        field.classList.toggle("d-none", select.value !== "custom");
      });
    };
    select.addEventListener("change", show);
    show();
  }

  function money(value) {
    return "¥" + Math.round(value).toLocaleString("zh-CN");
  }

  function compact(value) {
    var size = Math.abs(value);
    if (isZh()) {
      if (size >= 1e8) { return (value / 1e8).toFixed(1) + "亿"; }
      if (size >= 1e4) { return (value / 1e4).toFixed(0) + "万"; }
      return String(value);
    }
    if (size >= 1e9) { return (value / 1e9).toFixed(1) + "B"; }
    if (size >= 1e6) { return (value / 1e6).toFixed(1) + "M"; }
    if (size >= 1e3) { return (value / 1e3).toFixed(0) + "k"; }
    return String(value);
  }

  function isZh() {
    return (document.documentElement.lang || "").toLowerCase().indexOf("zh") === 0;
  }

  function base() {
    return {
      animation: false,
      tooltip: {renderMode: "richText", confine: true},
      grid: {left: 8, right: 16, top: 32, bottom: 8, containLabel: true}
    };
  }

  // The stages as bars in pipeline order, top to bottom: a deal count per stage need not shrink from
  // one stage to the next (deals wait longer in some), which a funnel shape would misdraw.
  function funnelOption(data) {
    var rows = data.funnel.filter(function (row) { return row.kind === "open" || row.kind === "won"; });
    var option = base();
    option.tooltip.trigger = "item";
    option.tooltip.formatter = function (p) {
      return p.name + "\n" + data.labels.count + ": " + p.data.value + "\n" + data.labels.amount + ": " +
        money(p.data.amount) + "\n" + data.labels.weighted + ": " + money(p.data.weighted);
    };
    option.grid.top = 8;
    option.xAxis = {type: "value", minInterval: 1};
    option.yAxis = {type: "category", inverse: true, data: rows.map(function (row) { return row.name; })};
    option.series = [{
      type: "bar", barMaxWidth: 28, label: {show: true, position: "right"},
      data: rows.map(function (row) {
        return {name: row.name, value: row.value, amount: row.amount, weighted: row.weighted, url: row.url};
      })
    }];
    return option;
  }

  function forecastOption(data) {
    var option = base();
    option.tooltip.trigger = "axis";
    option.legend = {top: 0, data: [data.labels.weighted, data.labels.amount]};
    option.xAxis = {type: "category", data: data.forecast.map(function (row) { return row.month; })};
    option.yAxis = {type: "value", min: 0, minInterval: 1, axisLabel: {formatter: compact}};
    var point = function (key) {
      return data.forecast.map(function (row) { return {value: row[key], url: row.url}; });
    };
    option.tooltip.valueFormatter = money;
    option.series = [
      {name: data.labels.weighted, type: "bar", data: point("weighted")},
      {name: data.labels.amount, type: "bar", data: point("amount"), itemStyle: {opacity: 0.35}}
    ];
    return option;
  }

  function conversionOption(data) {
    var option = base();
    option.tooltip.trigger = "item";
    option.tooltip.formatter = function (p) {
      var rate = p.data.rate === null ? "" : "\n" + p.data.rate + "%";
      return p.name + "\n" + data.labels.reached + ": " + p.data.value + rate;
    };
    option.xAxis = {type: "category", data: data.conversion.map(function (row) { return row.name; }),
                    axisLabel: {interval: 0, hideOverlap: true}};
    option.yAxis = {type: "value", minInterval: 1};
    option.series = [{
      name: data.labels.reached, type: "bar",
      label: {show: true, position: "top", formatter: function (p) {
        return p.data.rate === null ? String(p.data.value) : p.data.value + " (" + p.data.rate + "%)";
      }},
      data: data.conversion.map(function (row) { return {name: row.name, value: row.value, rate: row.rate, url: row.url}; })
    }];
    return option;
  }

  function draw(id, option) {
    var element = document.getElementById(id);
    if (!element) { return null; }
    var chart = window.echarts.init(element, null, {locale: isZh() ? "ZH" : "EN", renderer: "canvas"});
    chart.setOption(option);
    chart.on("click", function (params) {
      if (params.data && params.data.url) { window.location.href = params.data.url; }
    });
    if (window.ResizeObserver) {
      new ResizeObserver(function () { chart.resize(); }).observe(element);
    }
    return chart;
  }

  function init() {
    var form = document.getElementById("dashboard-filter");
    if (form) { toggleCustom(form); }
    var source = document.getElementById("dashboard-data");
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var charts = [
      draw("chart-funnel", funnelOption(data)),
      draw("chart-forecast", forecastOption(data)),
      draw("chart-conversion", conversionOption(data))
    ];
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) { if (chart) { chart.resize(); } });
    });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
