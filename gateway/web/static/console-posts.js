// Bình Yên console, post editor: the character count per channel type while one types, and the
// fields shown for the chosen kind. The count follows the posts service's rendering
// (services/posts/domain.py render_for_channel): the type's own variant, else a variant of the
// same family, else title + blank line + body; NFC, characters counted as code points (as
// Python's len), YouTube's description in UTF-8 bytes. The server shows the same figures on the
// post's preview.
(function () {
  "use strict";

  var form = document.getElementById("post-form");
  if (!form) return;
  var separator = document.documentElement.lang === "en" ? "," : ".";

  function clean(text) {
    text = (text || "").replace(/\r\n?/g, "\n");
    return text.normalize ? text.normalize("NFC") : text;
  }
  function rstrip(text) { return text.replace(/\s+$/, ""); }
  function field(selector) {
    var element = form.querySelector(selector);
    return element ? element.value : "";
  }
  function kind() { return field("[name=kind]") || form.getAttribute("data-kind"); }
  function usesWanted() {
    var k = kind();
    return k === "wanted_notice" || (k === "surrender_appeal" && field("[name=w_full_name]").trim() !== "");
  }
  function variant(type, family) {
    var own = form.querySelector('[data-override-type="' + type + '"]');
    if (own && clean(own.value).trim()) return rstrip(clean(own.value));
    var same = form.querySelectorAll('[data-override-family="' + family + '"]');
    for (var i = 0; i < same.length; i++) {
      if (clean(same[i].value).trim()) return rstrip(clean(same[i].value));
    }
    return null;
  }
  function size(text, unit) {
    if (unit === "bytes") return new TextEncoder().encode(text).length;
    return Array.from(text).length;
  }
  function format(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, separator); }

  function recount() {
    var title = clean(field("[name=title]")).trim();
    var body = rstrip(clean(usesWanted() ? field("#generated-body") : field("#body")));
    var items = form.querySelectorAll("[data-count-type]");
    for (var i = 0; i < items.length; i++) {
      var item = items[i];
      var text = variant(item.getAttribute("data-count-type"), item.getAttribute("data-family"));
      if (text === null) text = body ? title + "\n\n" + body : title;
      var n = size(text, item.getAttribute("data-unit"));
      var limit = parseInt(item.getAttribute("data-limit") || "0", 10);
      var titleLimit = parseInt(item.getAttribute("data-title-limit") || "0", 10);
      var titleSize = Array.from(title).length;
      item.querySelector(".count-size").textContent = format(n);
      var titleOutput = item.querySelector(".count-title");
      if (titleOutput) titleOutput.textContent = format(titleSize);
      var over = (limit > 0 && n > limit) || (titleLimit > 0 && titleSize > titleLimit);
      item.classList.toggle("count-over", over);
      item.querySelector(".count-over-label").hidden = !over;
    }
  }

  // The kind decides the fields: a wanted notice's body is made from the person's fields.
  function showKind() {
    var k = kind();
    form.setAttribute("data-kind", k);
    var wanted = form.querySelectorAll('[data-kind-only="wanted"]');
    for (var i = 0; i < wanted.length; i++) wanted[i].hidden = !(k === "wanted_notice" || k === "surrender_appeal");
    var text = form.querySelectorAll('[data-kind-only="text"]');
    for (var j = 0; j < text.length; j++) text[j].hidden = k === "wanted_notice";
  }

  form.addEventListener("input", recount);
  form.addEventListener("change", function (event) {
    if (event.target.name === "kind") showKind();
    recount();
  });
  document.body.addEventListener("htmx:afterSettle", recount);
  showKind();
  recount();
})();
