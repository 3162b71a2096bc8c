/* Every page: what keeps a clerk's typing safe. Every form works without this file; with it:
 * - on a page with errors, the first wrong field gets the focus (the summary stays at the top);
 * - a form marked data-dirty-guard warns before leaving it with unsaved changes, and keeps a draft
 *   of what was typed in this browser's localStorage (restored on request after a timeout);
 * - before the idle timeout a warning offers "继续", which keeps the session;
 * - buttons with data-confirm ask before doing what cannot be undone;
 * - the mouse wheel never changes a number field; the sticky action bar never covers the field in focus.
 */
(function () {
  "use strict";

  var body = document.body;
  var DRAFT_PREFIX = "yj-draft:";
  var DRAFT_MAX_AGE = 14 * 24 * 3600 * 1000;

  function csrfToken() {
    try {
      return JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function storage() {
    try {
      var s = window.localStorage;
      s.setItem("yj-probe", "1");
      s.removeItem("yj-probe");
      return s;
    } catch (e) {
      return null;
    }
  }

  // --- 1. focus the first error -------------------------------------------------------------

  function focusFirstError() {
    var field = document.querySelector(".has-error");
    var target = null;
    if (field) {
      target = field.querySelector("input:not([type=hidden]):not([disabled]), select, textarea");
    }
    if (!target) {
      target = document.querySelector("#error-summary, .error-summary, ul.errorlist");
      if (target && !target.hasAttribute("tabindex")) { target.setAttribute("tabindex", "-1"); }
    }
    if (target) {
      target.focus({ preventScroll: true });
      target.scrollIntoView({ block: "center" });
    }
  }

  // --- 2. the sticky action bar never covers the focused field --------------------------------

  document.addEventListener("focusin", function (event) {
    var el = event.target;
    var form = el.closest && el.closest("form");
    var bar = form && form.querySelector(".form-actions");
    if (!bar || bar.contains(el)) { return; }
    var barTop = bar.getBoundingClientRect().top;
    var rect = el.getBoundingClientRect();
    if (rect.bottom > barTop - 8 && barTop < window.innerHeight) {
      window.scrollBy(0, rect.bottom - barTop + 24);
    }
  });

  // --- 3. the wheel does not change numbers ---------------------------------------------------

  document.addEventListener("wheel", function (event) {
    var el = event.target;
    if (el.matches && el.matches("input[type=number]") && document.activeElement === el) {
      el.blur();
    }
  }, { passive: true });

  // --- 4. confirmations -----------------------------------------------------------------------

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-confirm]");
    if (!button) { return; }
    var message = button.getAttribute("data-confirm");
    var count = button.getAttribute("data-confirm-count");
    if (count) {
      var n = document.querySelectorAll(count).length;
      if (!n) { return; }  // nothing chosen: the server says so
      message = message.replace("{n}", String(n));
    }
    if (!window.confirm(message)) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    // Confirmed here: the server need not show its own confirmation page (the no-JavaScript path).
    var field = button.getAttribute("data-confirm-field");
    if (field && button.form && !button.form.querySelector('input[name="' + field + '"]')) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = field;
      input.value = "yes";
      button.form.appendChild(input);
    }
  }, true);

  // --- 5. dirty forms and drafts --------------------------------------------------------------

  function fields(form) {
    var out = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.type === "file" || el.type === "submit" || el.type === "button") { return; }
      if (el.name === "csrfmiddlewaretoken" || el.name === "form_token" || el.name === "action") { return; }
      if (el.type === "checkbox" || el.type === "radio") {
        out.push([el.name, el.value, el.checked ? "1" : ""]);
      } else if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) { out.push([el.name, o.value, o.selected ? "1" : ""]); });
      } else {
        out.push([el.name, "", el.value]);
      }
    });
    return out;
  }

  function restore(form, saved) {
    // Building rows added before the draft was kept: add them again first.
    saved.forEach(function (f) {
      var m = /^([a-z]+)-TOTAL_FORMS$/.exec(f[0]);
      var container = document.getElementById("building-rows");
      if (!m || !container) { return; }
      var want = parseInt(f[2], 10) || 0;
      while (container.querySelectorAll("fieldset[data-building]").length < want) {
        if (!addBuilding(container, m[1])) { break; }
      }
    });
    var byName = {};
    saved.forEach(function (f) { (byName[f[0]] = byName[f[0]] || []).push(f); });
    Array.prototype.forEach.call(form.elements, function (el) {
      var list = byName[el.name];
      if (!list || el.type === "file" || el.name === "csrfmiddlewaretoken" || el.name === "form_token") { return; }
      if (el.type === "checkbox" || el.type === "radio") {
        list.forEach(function (f) { if (f[1] === el.value) { el.checked = f[2] === "1"; } });
      } else if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) {
          list.forEach(function (f) { if (f[1] === o.value) { o.selected = f[2] === "1"; } });
        });
      } else if (list.length) {
        el.value = list.shift()[2];
      }
      el.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  function purgeDrafts(store) {
    var saved = body.getAttribute("data-saved-form");
    var now = Date.now();
    for (var i = store.length - 1; i >= 0; i--) {
      var key = store.key(i);
      if (!key || key.indexOf(DRAFT_PREFIX) !== 0) { continue; }
      try {
        var draft = JSON.parse(store.getItem(key));
        if ((saved && draft.token === saved) || now - draft.time > DRAFT_MAX_AGE) { store.removeItem(key); }
      } catch (e) {
        store.removeItem(key);
      }
    }
  }

  function guard(form) {
    var store = storage();
    var key = DRAFT_PREFIX + (body.getAttribute("data-user") || "") + ":" + (form.getAttribute("data-draft-key") || location.pathname);
    var tokenInput = form.querySelector("input[name=form_token]");
    // Back to a form already posted: the browser fetches it anew, with a new token. Post the old one
    // again, so the server opens the record it saved instead of saving a second one.
    var sent = "yj-sent:" + key;
    var navigation = window.performance && performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
    try {
      if (tokenInput && navigation && navigation.type === "back_forward" && sessionStorage.getItem(sent)) {
        tokenInput.value = sessionStorage.getItem(sent);
      }
    } catch (e) { /* no sessionStorage: the server's number checks still refuse duplicates */ }
    var token = tokenInput ? tokenInput.value : "";
    var initial = JSON.stringify(fields(form));
    var submitting = false;
    var timer = null;

    function dirty() { return JSON.stringify(fields(form)) !== initial; }

    function keep() {
      if (!store) { return; }
      if (!dirty()) { return; }
      try {
        store.setItem(key, JSON.stringify({ token: token, time: Date.now(), fields: fields(form) }));
      } catch (e) { /* storage full: the warning on leaving still protects */ }
    }

    form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(keep, 400); });
    form.addEventListener("change", function () { clearTimeout(timer); timer = setTimeout(keep, 400); });
    form.addEventListener("submit", function () {
      keep();
      submitting = true;
      try { sessionStorage.setItem(sent, token); } catch (e) { /* see above */ }
    });
    window.addEventListener("beforeunload", function (event) {
      if (!submitting && dirty()) {
        keep();
        event.preventDefault();
        event.returnValue = "";
        return "";
      }
    });
    form.keepDraft = keep;

    if (!store) { return; }
    var draft = null;
    try { draft = JSON.parse(store.getItem(key) || "null"); } catch (e) { draft = null; }
    if (!draft || draft.token === token || JSON.stringify(draft.fields) === initial) { return; }
    var when = new Date(draft.time);
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    var banner = document.createElement("div");
    banner.className = "callout warn draft-banner";
    banner.id = "draft-banner";
    banner.setAttribute("role", "status");
    banner.innerHTML = "<p><strong>本页有一份未保存的填写内容</strong>（" + (when.getMonth() + 1) + "月" + when.getDate() + "日 " +
      pad(when.getHours()) + ":" + pad(when.getMinutes()) + "，可能因超时退出或离开页面而未保存；附件需重新选择）。</p>" +
      '<button type="button" class="btn primary" data-draft="restore">恢复未保存的内容</button> ' +
      '<button type="button" class="btn secondary" data-draft="discard">丢弃</button>';
    form.parentNode.insertBefore(banner, form);
    banner.addEventListener("click", function (event) {
      var action = event.target.getAttribute("data-draft");
      if (action === "restore") {
        restore(form, draft.fields);
        banner.remove();
      } else if (action === "discard") {
        store.removeItem(key);
        banner.remove();
      }
    });
  }

  // --- 6. the idle timeout --------------------------------------------------------------------

  function idleWatch() {
    var idle = parseInt(body.getAttribute("data-idle-seconds") || "0", 10);
    var url = body.getAttribute("data-keepalive-url");
    if (!idle || !url) { return; }
    // The server notes activity at most every min(60, idle/10) s: count from that much earlier.
    var slack = Math.min(60, Math.floor(idle / 10));
    var lead = Math.min(120, Math.floor(idle / 2));
    var last = Date.now() - slack * 1000;
    var typed = false;
    var box = null;
    var ended = false;

    function remaining() { return idle - (Date.now() - last) / 1000; }

    function hide() { if (box) { box.remove(); box = null; } }

    function keepalive(quiet) {
      var request = new XMLHttpRequest();
      request.open("POST", url);
      request.setRequestHeader("X-CSRFToken", csrfToken());
      request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      request.onload = function () {
        if (request.status === 200) {
          last = Date.now();
          typed = false;
          hide();
        } else if (!quiet) {
          end();
        }
      };
      request.send();
    }

    function show(html, buttons) {
      hide();
      box = document.createElement("div");
      box.className = "session-warning";
      box.id = "session-warning";
      box.setAttribute("role", "alertdialog");
      box.setAttribute("aria-live", "assertive");
      box.innerHTML = "<p>" + html + "</p>" + buttons;
      body.appendChild(box);
      var first = box.querySelector("button, a");
      if (first) { first.focus({ preventScroll: true }); }
    }

    function end() {
      ended = true;
      document.querySelectorAll("form[data-dirty-guard]").forEach(function (f) { if (f.keepDraft) { f.keepDraft(); } });
      var login = (body.getAttribute("data-login-url") || "/login/") + "?next=" + encodeURIComponent(location.pathname);
      show("您已超时退出。本页已填写的内容保存在本浏览器中，重新登录后回到本页即可恢复。",
        '<a class="btn primary" href="' + login + '">重新登录</a>');
    }

    document.addEventListener("input", function () { typed = true; });
    document.addEventListener("click", function (event) {
      if (event.target.closest && event.target.closest("#session-warning [data-keepalive]")) {
        keepalive(false);
      }
    });

    setInterval(function () {
      if (ended) { return; }
      var left = remaining();
      if (left <= 0) { end(); return; }
      // Typing is activity too: while someone types, keep the session without asking.
      if (typed && left < idle * 2 / 3) { keepalive(true); return; }
      if (left <= lead) {
        var text = "您已较长时间未操作，为保障账号安全，将在 <strong>" + Math.ceil(left) + "</strong> 秒后自动退出。" +
          "点击“继续”保持登录，已填写的内容不会丢失。";
        if (box && box.getAttribute("data-kind") === "warn") {
          box.querySelector("p").innerHTML = text;
        } else {
          show(text, '<button type="button" class="btn primary" data-keepalive>继续</button>');
          box.setAttribute("data-kind", "warn");
        }
      }
    }, 1000);
  }

  // --- 7. units by name: suggestions as one types --------------------------------------------

  var lookupTimer = null;
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[data-org-lookup]")) { return; }
    clearTimeout(lookupTimer);
    lookupTimer = setTimeout(function () {
      var text = input.value.trim();
      var list = document.getElementById(input.getAttribute("list"));
      if (!list || text.length < 2 || /（[0-9A-Z]{18}）$/.test(text)) { return; }
      var url = input.getAttribute("data-org-lookup") + "?q=" + encodeURIComponent(text) +
        "&kind=" + encodeURIComponent(input.getAttribute("data-org-kind") || "");
      var request = new XMLHttpRequest();
      request.open("GET", url);
      request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      request.onload = function () {
        if (request.status !== 200) { return; }
        var results = JSON.parse(request.responseText).results || [];
        list.textContent = "";
        results.forEach(function (r) {
          var option = document.createElement("option");
          option.value = r.value;
          option.label = r.verified ? r.code : r.code + "（待核实）";
          list.appendChild(option);
        });
      };
      request.send();
    }, 250);
  });

  // --- 8. a required mark that depends on another field (招标代理单位名称 unless 直接发包) --------

  function conditionalRequired() {
    document.querySelectorAll("[data-required-unless]").forEach(function (input) {
      var rule = input.getAttribute("data-required-unless").split("=");
      var other = input.form && input.form.elements[rule[0]];
      var field = input.closest(".field");
      if (!other || !field) { return; }
      field.classList.toggle("required", other.value !== rule[1]);
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.form && event.target.form.querySelector("[data-required-unless]")) { conditionalRequired(); }
  });

  // --- 9. a building table pasted from Excel into the 单体 rows --------------------------------

  var ROW_NAME = /^([a-z]+)-(\d+)-(.+)$/;

  function controlsOf(fieldset) {
    return Array.prototype.filter.call(fieldset.querySelectorAll("input, select, textarea"), function (el) {
      var m = ROW_NAME.exec(el.name || "");
      return m && m[3] !== "DELETE";
    });
  }

  function addBuilding(container, prefix) {
    var rows = container.querySelectorAll("fieldset[data-building]");
    var last = rows[rows.length - 1];
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var max = document.getElementById("id_" + prefix + "-MAX_NUM_FORMS");
    var index = rows.length;
    if (!last || !total || (max && index >= parseInt(max.value, 10))) { return null; }
    var copy = last.cloneNode(true);
    var from = prefix + "-" + (index - 1) + "-", to = prefix + "-" + index + "-";
    copy.querySelectorAll("[name], [id], label[for]").forEach(function (el) {
      ["name", "id", "for"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value && value.indexOf(from) !== -1) { el.setAttribute(attr, value.replace(from, to)); }
      });
      if (el.matches("input[type=checkbox]")) { el.checked = false; }
      else if (el.matches("select")) { el.selectedIndex = 0; }
      else if (el.matches("input, textarea")) { el.value = ""; }
    });
    copy.querySelectorAll(".errorlist").forEach(function (el) { el.remove(); });
    copy.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
    copy.setAttribute("data-building", String(index + 1));
    var legend = copy.querySelector("legend");
    if (legend) { legend.textContent = "单体 " + (index + 1); }
    container.appendChild(copy);
    total.value = String(index + 1);
    return copy;
  }

  function setCell(el, text) {
    text = text.trim();
    if (el.type === "checkbox") {
      el.checked = /^(是|√|✓|y|yes|true|1)$/i.test(text);
    } else if (el.tagName === "SELECT") {
      var hit = Array.prototype.find.call(el.options, function (o) {
        return o.value && (o.value === text || o.textContent.trim() === text);
      }) || Array.prototype.find.call(el.options, function (o) {
        return o.value && text && o.textContent.indexOf(text) !== -1;
      });
      if (hit) { el.value = hit.value; }
    } else {
      el.value = text;
    }
    el.dispatchEvent(new Event("input", { bubbles: true }));
    el.dispatchEvent(new Event("change", { bubbles: true }));
  }

  document.addEventListener("paste", function (event) {
    var target = event.target;
    var container = target.closest && target.closest("#building-rows");
    var data = event.clipboardData && event.clipboardData.getData("text/plain");
    if (!container || !data || !/[\t\n]/.test(data.trim())) { return; }
    var m = ROW_NAME.exec(target.name || "");
    if (!m) { return; }
    event.preventDefault();
    var prefix = m[1], start = parseInt(m[2], 10);
    var startFieldset = target.closest("fieldset[data-building]");
    var column = controlsOf(startFieldset).indexOf(target);
    var lines = data.replace(/\r/g, "").split("\n").filter(function (line) { return line.trim() !== ""; });
    var row = start;
    lines.forEach(function (line, lineIndex) {
      var cells = line.split("\t");
      var fieldsets = container.querySelectorAll("fieldset[data-building]");
      var fieldset = fieldsets[row] || addBuilding(container, prefix);
      if (!fieldset) { return; }
      var controls = controlsOf(fieldset);
      // A header row copied with the table (单体名称 …) is skipped.
      var first = controls[column];
      var label = first && fieldset.querySelector('label[for="' + first.id + '"]');
      var head = cells[0].trim(), text = label ? label.textContent.trim() : "";
      if (lineIndex === 0 && head && text && (text.indexOf(head) !== -1 || head.indexOf(text) !== -1)) { return; }
      cells.forEach(function (cell, i) {
        var el = controls[column + i];
        if (el) { setCell(el, cell); }
      });
      row += 1;
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    conditionalRequired();
    var store = storage();
    if (store) { purgeDrafts(store); }
    document.querySelectorAll("form[data-dirty-guard]").forEach(guard);
    focusFirstError();
    idleWatch();
  });
})();
