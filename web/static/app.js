// Jiebang's only script. Every page works without it; it adds live statuses,
// live countdowns and an upload progress bar with clear errors.
(function () {
  "use strict";
  var words = {};
  try { words = JSON.parse(document.getElementById("jb-words").textContent); } catch (e) { /* keep English keys */ }
  function word(key) { return words[key] || key; }
  function fmt(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (_, k) { return values[k]; });
  }

  // --- Live status: elements with data-status-url poll until the submission is final.
  function fill(el, data) {
    el.querySelectorAll("[data-field]").forEach(function (cell) {
      var key = cell.getAttribute("data-field");
      var value = data[key];
      if (key === "status") {
        var span = document.createElement("span");
        span.className = "status " + value;
        span.textContent = word(value);
        cell.replaceChildren(span);
      } else if (key === "public_score") {
        cell.textContent = value === null || value === undefined ? "—" : Number(value).toFixed(4);
      } else if (key === "runtime_s") {
        cell.textContent = value === null || value === undefined ? "—" : word("seconds").replace("{n}", Number(value).toFixed(2));
      } else if (key === "peak_memory_mb") {
        cell.textContent = value === null || value === undefined ? "—" : word("megabytes").replace("{n}", Number(value).toFixed(1));
      } else if (key === "failure") {
        cell.textContent = value ? word(value) : "—";
      } else {
        cell.textContent = value === null || value === undefined || value === "" ? "—" : value;
      }
    });
  }
  function poll(el, delay) {
    var url = el.getAttribute("data-status-url");
    if (!url) return;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (data) {
        fill(el, data);
        if (data.final) {
          el.removeAttribute("data-status-url");
          if (el.hasAttribute("data-reload-when-final")) window.location.reload();
          return;
        }
        setTimeout(function () { poll(el, Math.min(delay * 1.3, 5000)); }, delay);
      })
      .catch(function () { setTimeout(function () { poll(el, 10000); }, 10000); });
  }
  document.querySelectorAll("[data-status-url]").forEach(function (el) { poll(el, 1000); });

  // --- Countdowns: <time data-countdown datetime="ISO"> ticks every second.
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  var clocks = Array.prototype.slice.call(document.querySelectorAll("time[data-countdown]"));
  function tick() {
    var now = Date.now();
    clocks.forEach(function (el) {
      var left = Math.floor((Date.parse(el.getAttribute("datetime")) - now) / 1000);
      if (isNaN(left)) return;
      if (left <= 0) { el.textContent = word("closed"); return; }
      var d = Math.floor(left / 86400), h = Math.floor((left % 86400) / 3600);
      var m = Math.floor((left % 3600) / 60), s = left % 60;
      var text = pad(h) + ":" + pad(m) + ":" + pad(s);
      el.textContent = d > 0 ? d + " " + word(d === 1 ? "day" : "days") + " " + text : text;
    });
  }
  if (clocks.length) { tick(); setInterval(tick, 1000); }

  // --- Forms that ask first (cancelling a submission): data-confirm holds the question.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.getAttribute("data-confirm"))) ev.preventDefault();
    });
  });

  // --- Upload with progress. Without a script the form posts normally.
  document.querySelectorAll("form.upload").forEach(function (form) {
    if (!window.FormData || !window.XMLHttpRequest) return;
    var bar = form.querySelector("progress");
    var info = form.querySelector(".upload-status");
    var error = form.querySelector(".upload-error");
    var button = form.querySelector("button[type=submit]");
    var busy = false;
    function fail(message) {
      busy = false;
      button.disabled = false;
      bar.hidden = true;
      info.textContent = "";
      error.textContent = message;
      error.hidden = false;
      error.setAttribute("tabindex", "-1");
      error.focus();
    }
    window.addEventListener("beforeunload", function (ev) { if (busy) { ev.preventDefault(); ev.returnValue = ""; } });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (busy) return;
      error.hidden = true;
      var input = form.querySelector("input[type=file]");
      var file = input && input.files && input.files[0];
      if (!file) { fail(word("choose")); return; }
      var kind = (form.querySelector("input[name=kind]:checked") || {}).value || "auto";
      // Detected by the server from the file's content; the name is enough for the limit.
      if (kind === "auto") kind = /\.zip$/i.test(file.name) ? "bundle" : "image";
      var limit = Number(form.getAttribute(kind === "bundle" ? "data-max-bundle" : "data-max-image"));
      if (limit && file.size > limit) { fail(fmt(word("too_large"), { mb: Math.floor(limit / 1048576) })); return; }
      busy = true;
      button.disabled = true;
      bar.hidden = false;
      bar.value = 0;
      info.textContent = fmt(word("uploading"), { pct: 0 });
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.upload.onprogress = function (e) {
        if (!e.lengthComputable) return;
        var pct = Math.floor((100 * e.loaded) / e.total);
        bar.value = pct;
        info.textContent = fmt(word("uploading"), { pct: pct });
      };
      xhr.upload.onload = function () { bar.value = 100; info.textContent = word("processing"); };
      xhr.onload = function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
        if (xhr.status >= 200 && xhr.status < 300 && body && body.ok) {
          busy = false;
          window.location.assign(body.redirect);
        } else if (body && body.error) {
          fail(body.error);
        } else if (xhr.status === 413) {
          fail(fmt(word("too_large"), { mb: Math.floor(limit / 1048576) }));
        } else {
          fail(fmt(word("server"), { status: xhr.status }));
        }
      };
      xhr.onerror = function () { fail(word("network")); };
      xhr.onabort = function () { fail(word("network")); };
      xhr.send(new FormData(form));
    });
  });
})();
