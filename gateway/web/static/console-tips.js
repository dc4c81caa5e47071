// Tip inbox and tip page: tick the SLA countdowns the server wrote, and fill the reply from a
// template or an FAQ answer without reloading the page (the forms work without this file).
(function () {
  "use strict";

  function words() {
    var el = document.getElementById("sla-words");
    return el ? el.dataset : null;
  }

  function fill(template, values) {
    return template.replace(/\{(\w)\}/g, function (_, key) { return values[key]; });
  }

  // The same wording as gateway/web/console/tips.py duration().
  function duration(seconds, w) {
    var minutes = Math.max(1, Math.ceil(Math.abs(seconds) / 60));
    var hours = Math.floor(minutes / 60);
    if (hours < 1) return fill(w.minutes, {n: minutes});
    if (hours < 6) return minutes % 60 ? fill(w.hoursMinutes, {h: hours, m: minutes % 60}) : fill(w.hours, {h: hours});
    if (hours < 48) return fill(w.hours, {h: hours});
    return fill(w.days, {d: Math.floor(hours / 24)});
  }

  function tick() {
    var w = words();
    if (!w) return;
    document.querySelectorAll("[data-sla-due]").forEach(function (el) {
      var left = (Date.parse(el.getAttribute("data-sla-due")) - Date.now()) / 1000;
      if (isNaN(left)) return;
      el.textContent = fill(left >= 0 ? w.left : w.over, {t: duration(left, w)});
      el.classList.toggle("sla-over", left < 0);
      el.classList.toggle("sla-left", left >= 0);
    });
  }

  function reply(text, focus) {
    var box = document.getElementById("reply-text");
    if (!box) return false;
    box.value = text;
    if (focus) box.focus();  // not from the select: arrow keys there change it option by option
    return true;
  }

  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-fill-target]");
    if (!select || !select.value) return;
    reply(select.selectedOptions[0].getAttribute("data-text") || "", false);
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-fill-reply]");
    if (link && reply(link.getAttribute("data-fill-reply"), true)) event.preventDefault();
  });

  function hideFallbacks() {
    document.querySelectorAll("[data-without-script]").forEach(function (el) { el.hidden = true; });
  }

  document.addEventListener("DOMContentLoaded", function () { hideFallbacks(); tick(); });
  document.addEventListener("htmx:afterSettle", function () { hideFallbacks(); tick(); });
  setInterval(tick, 15000);
})();
