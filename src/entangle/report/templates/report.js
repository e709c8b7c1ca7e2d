// Small, dependency-free interactivity: one period control for every map, the network year,
// and tooltips that work with a mouse, a pen or a finger. Every control only changes a class,
// a fill or a text; without script the report (and its print) shows everything it needs.
(function () {
  "use strict";

  // --- tooltips: SVG <title> text becomes data-tip (one tooltip, not the browser's and ours) ---
  var tip = document.querySelector(".tip");
  document.querySelectorAll("svg title").forEach(function (t) {
    var owner = t.parentNode;
    owner.setAttribute("data-tip", t.textContent);
    owner.removeChild(t);
  });
  var pinned = null;
  function show(el, x, y) {
    if (!tip) return;
    tip.textContent = el.getAttribute("data-tip");
    tip.hidden = false;
    var w = tip.offsetWidth, h = tip.offsetHeight;
    var left = Math.min(x + 12, window.innerWidth - w - 8);
    var top = y + 16 + h > window.innerHeight ? y - h - 12 : y + 16;
    tip.style.left = Math.max(4, left) + "px";
    tip.style.top = Math.max(4, top) + "px";
  }
  function hide() { if (tip) tip.hidden = true; pinned = null; }
  document.addEventListener("pointermove", function (ev) {
    if (ev.pointerType === "touch" || pinned) return;
    var el = ev.target.closest ? ev.target.closest("[data-tip]") : null;
    if (el) show(el, ev.clientX, ev.clientY); else if (tip) tip.hidden = true;
  });
  // A tap (or click) pins the tooltip until the next tap elsewhere.
  document.addEventListener("pointerdown", function (ev) {
    var el = ev.target.closest ? ev.target.closest("[data-tip]") : null;
    if (el && el !== pinned) { show(el, ev.clientX, ev.clientY); pinned = el; }
    else hide();
  });
  window.addEventListener("scroll", function () { if (!pinned && tip) tip.hidden = true; }, { passive: true });

  // --- one linked period control for all maps ---
  function ramp(value, vmax) {
    // Same white-to-dark-red square-root ramp as entangle.report.svg.sequential.
    if (!(vmax > 0) || !(value > 0)) return "#ffffff";
    var t = Math.min(1, Math.sqrt(value / vmax));
    var hex = function (v) { return ("0" + Math.floor(v).toString(16)).slice(-2); };
    return "#" + hex(255 - t * (255 - 165)) + hex(255 - t * 255 * 0.9) + hex(255 - t * 255 * 0.85);
  }
  function short(v) { return (+v.toPrecision(3)).toLocaleString("en"); }
  var layerScript = document.getElementById("layers");
  var layers = layerScript ? JSON.parse(layerScript.textContent) : {};
  var period = document.querySelector("[data-period]");
  if (period) {
    var all = period.querySelector("[data-allyears]");
    var slider = period.querySelector("[data-year]");
    var out = period.querySelector("[data-periodout]");
    var whole = out.textContent;
    var update = function () {
      slider.disabled = all.checked;
      var year = all.checked ? null : parseInt(slider.value, 10);
      var when = year === null ? "whole period" : String(year);
      out.textContent = year === null ? whole : when;
      document.querySelectorAll("[data-sites] circle.site").forEach(function (c) {
        var on = year === null || (+c.dataset.y0 <= year && year <= +c.dataset.y1);
        c.classList.toggle("hide-site", !on);
      });
      Object.keys(layers).forEach(function (id) {
        var layer = layers[id];
        var map = document.querySelector('[data-layer="' + id + '"]');
        if (!map) return;
        var unit = map.dataset.unit;
        var values = year === null ? layer.total : (layer.years[String(year)] || {});
        var vmax = year === null ? layer.maxTotal : layer.max;
        map.querySelectorAll("path.unit").forEach(function (p) {
          var v = values[p.dataset.u] || 0;
          p.setAttribute("fill", ramp(v, vmax));
          p.setAttribute("data-tip", p.dataset.label + ": " + short(v) + " " + unit + " (" + when + ")");
        });
        document.querySelectorAll('[data-key="' + id + '"]').forEach(function (t) {
          var f = +t.dataset.t; t.textContent = short(vmax * f * f);
        });
        document.querySelectorAll('[data-maxfor="' + id + '"]').forEach(function (t) {
          t.textContent = short(vmax) + (year === null ? "" : " in " + year + "; each year shares the scale of the highest unit-year");
        });
      });
    };
    all.addEventListener("change", update);
    slider.addEventListener("input", update);
    period.querySelectorAll("[data-kind]").forEach(function (box) {
      box.addEventListener("change", function () {
        document.querySelectorAll("[data-sites] circle.k-" + box.dataset.kind).forEach(function (c) {
          c.classList.toggle("hide-kind", !box.checked);
        });
      });
    });
  }

  // --- the network of any year ---
  var net = document.querySelector("[data-netcontrols]");
  if (net) {
    var yearInput = net.querySelector("[data-netyear]");
    var netOut = net.querySelector("output");
    var showYear = function () {
      netOut.textContent = yearInput.value;
      document.querySelectorAll(".netpanel").forEach(function (p) {
        p.classList.toggle("hidden", p.dataset.year !== yearInput.value);
      });
    };
    yearInput.addEventListener("input", showYear);
    showYear();
  }

  // Closed <details> do not print: open them all before printing.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
})();
