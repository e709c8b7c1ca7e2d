// Small, dependency-free interactivity: year sliders, layer toggles, network year buttons.
// Every control only adds or removes a class or a fill; without script the report shows everything.
(function () {
  "use strict";

  function ramp(value, vmax) {
    // Same white-to-dark-red ramp as entangle.report.svg.sequential.
    if (!(vmax > 0) || !(value > 0)) return "#ffffff";
    var t = Math.min(1, Math.sqrt(value / vmax));
    var hex = function (v) { return ("0" + Math.floor(v).toString(16)).slice(-2); };
    return "#" + hex(255 - t * (255 - 165)) + hex(255 - t * 255 * 0.9) + hex(255 - t * 255 * 0.85);
  }

  function yearControl(box, onChange) {
    var all = box.querySelector("[data-allyears]");
    var slider = box.querySelector("[data-year]");
    var out = box.querySelector("output");
    function update() {
      slider.disabled = all.checked;
      out.textContent = all.checked ? "all" : slider.value;
      onChange(all.checked ? null : parseInt(slider.value, 10));
    }
    all.addEventListener("change", update);
    slider.addEventListener("input", update);
  }

  var sites = document.querySelector("[data-sites]");
  var siteControls = document.querySelector("[data-sitecontrols]");
  if (sites && siteControls) {
    yearControl(siteControls, function (year) {
      sites.querySelectorAll("circle.site").forEach(function (c) {
        var on = year === null || (+c.dataset.y0 <= year && year <= +c.dataset.y1);
        c.classList.toggle("hide-site", !on);
      });
    });
    siteControls.querySelectorAll("[data-kind]").forEach(function (box) {
      box.addEventListener("change", function () {
        sites.querySelectorAll("circle.k-" + box.dataset.kind).forEach(function (c) {
          c.classList.toggle("hide-kind", !box.checked);
        });
      });
    });
  }

  var layerScript = document.getElementById("layers");
  var layers = layerScript ? JSON.parse(layerScript.textContent) : {};
  document.querySelectorAll("[data-layercontrols]").forEach(function (box) {
    var id = box.dataset.layercontrols;
    var layer = layers[id];
    var map = document.querySelector('[data-layer="' + id + '"]');
    if (!layer || !map) return;
    yearControl(box, function (year) {
      var values = year === null ? layer.total : (layer.years[String(year)] || {});
      var vmax = year === null ? layer.maxTotal : layer.max;
      map.querySelectorAll("path.unit").forEach(function (p) {
        var v = values[p.dataset.u] || 0;
        p.setAttribute("fill", ramp(v, vmax));
        var t = p.querySelector("title");
        if (t) t.textContent = t.textContent.replace(/: [^:]*$/, ": " + (+v.toPrecision(3)) + (year === null ? " (whole period)" : " (" + year + ")"));
      });
    });
  });

  var netControls = document.querySelector("[data-netcontrols]");
  if (netControls) {
    netControls.querySelectorAll("button").forEach(function (btn) {
      btn.addEventListener("click", function () {
        netControls.querySelectorAll("button").forEach(function (b) { b.classList.toggle("on", b === btn); });
        document.querySelectorAll(".netpanel").forEach(function (p) {
          p.classList.toggle("hidden", btn.dataset.year !== "all" && p.dataset.year !== btn.dataset.year);
        });
      });
    });
  }

  // Closed <details> do not print: open them all before printing.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
})();
