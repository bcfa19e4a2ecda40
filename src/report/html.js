// affcheck HTML report: draws the findings table and the page list from the JSON data above.
// Page text is only ever inserted with textContent; links are made only to http(s) pages.
(function () {
  "use strict";
  var byId = function (id) { return document.getElementById(id); };
  var pages = JSON.parse(byId("affcheck-pages").textContent);
  var meta = JSON.parse(byId("affcheck-meta").textContent);
  var RULES = meta.rules;
  var NETS = meta.networks;
  var SEV = ["error", "warning", "notice"];
  var STRENGTH = ["", "label", "explicit"];
  var BATCH = 200;        // table rows drawn at a time
  var AUTO_ROWS = 1000;   // rows drawn by scrolling alone; past that, the button draws more
  var PAGE_BATCH = 100;   // pages drawn at a time
  var nf = typeof Intl !== "undefined" ? new Intl.NumberFormat("en-US") : null;
  var fmt = function (n) { return nf ? nf.format(n) : String(n); };
  var plural = function (n, one, many) { return fmt(n) + " " + (n === 1 ? one : many); };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function isWeb(u) { return /^https?:\/\//i.test(u); }
  function pageLink(u) {
    if (isWeb(u)) {
      var a = el("a", "page-url", u);
      a.href = u;
      a.rel = "noreferrer";
      return a;
    }
    return el("span", "page-url", u);
  }
  function sevBadge(s) { return el("span", "sev sev-" + s, SEV[s]); }
  function ruleCode(r) {
    var c = el("code", null, RULES[r].id);
    c.title = RULES[r].title;
    return c;
  }
  function netName(n) { return n >= 0 && n < NETS.length ? NETS[n] : ""; }

  // One row per finding, in report order.
  var rows = [];
  for (var p = 0; p < pages.length; p++) {
    var pg = pages[p], fs = pg.f;
    for (var i = 0; i < fs.length; i++) {
      var f = fs[i], l = f[5] >= 0 ? pg.l[f[5]] : null;
      rows.push({
        seq: rows.length, page: pg.u, line: f[2], rule: f[0], sev: f[1],
        net: netName(l ? l[2] : f[8]), text: l ? l[1] : f[7], url: l ? l[0] : f[6],
        ex: f[3] >= 0 ? pg.x[f[3]] : "", msg: f[4], hay: null
      });
    }
  }

  var GET = {
    page: function (r) { return r.page; },
    line: function (r) { return r.line; },
    rule: function (r) { return RULES[r.rule].id; },
    sev: function (r) { return r.sev; },
    net: function (r) { return r.net; },
    text: function (r) { return r.text; },
    url: function (r) { return r.url; },
    ex: function (r) { return r.ex; },
    msg: function (r) { return r.msg; }
  };
  var sortCol = null, sortDir = 1, sorted = rows, view = rows, shown = 0, autoShown = 0;
  var body = byId("findings-body"), status = byId("findings-status"), more = byId("findings-more");
  var q = byId("q"), ruleSel = byId("rule-filter"), sevSel = byId("sev-filter");

  function hay(r) {
    if (r.hay === null) {
      r.hay = (r.page + "\n" + r.text + "\n" + r.url + "\n" + r.ex + "\n" + r.msg + "\n" +
        r.net + "\n" + RULES[r.rule].id).toLowerCase();
    }
    return r.hay;
  }

  function rowEl(r) {
    var tr = document.createElement("tr");
    var cell = function (content, cls) {
      var td = el("td", cls);
      if (typeof content === "string") td.textContent = content; else td.appendChild(content);
      tr.appendChild(td);
    };
    cell(pageLink(r.page), "c-page");
    cell(String(r.line), "c-num");
    cell(ruleCode(r.rule));
    cell(sevBadge(r.sev));
    cell(r.net);
    cell(r.text);
    cell(el("span", "url", r.url));
    cell(r.ex);
    cell(r.msg);
    return tr;
  }

  function updateStatus() {
    if (rows.length === 0) {
      status.textContent = "No findings: every affiliate link has a disclosure before it.";
    } else if (view.length === 0) {
      status.textContent = "No finding matches the filter (" + plural(rows.length, "finding", "findings") + " in all).";
    } else {
      var of = view.length === rows.length ? plural(rows.length, "finding", "findings")
        : fmt(view.length) + " matching findings (" + fmt(rows.length) + " in all)";
      status.textContent = "Showing " + fmt(shown) + " of " + of + ".";
    }
    more.hidden = shown >= view.length;
    if (!more.hidden) {
      more.textContent = "Show " + fmt(Math.min(BATCH, view.length - shown)) + " more findings";
    }
  }

  function drawMore(n) {
    var end = Math.min(view.length, shown + n);
    var frag = document.createDocumentFragment();
    for (var i = shown; i < end; i++) frag.appendChild(rowEl(view[i]));
    body.appendChild(frag);
    shown = end;
    updateStatus();
  }

  function applyFilter() {
    var text = q.value.trim().toLowerCase();
    var rule = ruleSel.value === "" ? -1 : Number(ruleSel.value);
    var sev = sevSel.value === "" ? -1 : Number(sevSel.value);
    if (!text && rule < 0 && sev < 0) {
      view = sorted;
    } else {
      view = sorted.filter(function (r) {
        return (rule < 0 || r.rule === rule) && (sev < 0 || r.sev === sev) &&
          (!text || hay(r).indexOf(text) >= 0);
      });
    }
    body.textContent = "";
    shown = 0;
    autoShown = 0;
    drawMore(BATCH);
  }

  function sortBy(col) {
    if (sortCol === col) sortDir = -sortDir; else { sortCol = col; sortDir = 1; }
    applySort();
  }

  function applySort() {
    var col = sortCol, get = GET[col];
    sorted = rows.slice().sort(function (a, b) {
      var x = get(a), y = get(b);
      return (x < y ? -1 : x > y ? 1 : 0) * sortDir || a.seq - b.seq;
    });
    var ths = document.querySelectorAll("#findings-table th");
    for (var i = 0; i < ths.length; i++) {
      var b = ths[i].querySelector("button");
      ths[i].setAttribute("aria-sort", b && b.getAttribute("data-col") === col
        ? (sortDir > 0 ? "ascending" : "descending") : "none");
    }
    applyFilter();
  }

  var headers = document.querySelectorAll("#findings-table th button");
  for (var h = 0; h < headers.length; h++) {
    headers[h].addEventListener("click", function (e) {
      sortBy(e.currentTarget.getAttribute("data-col"));
    });
  }
  var timer = null;
  q.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(applyFilter, rows.length > 20000 ? 250 : 80);
  });
  ruleSel.addEventListener("change", applyFilter);
  sevSel.addEventListener("change", applyFilter);
  more.addEventListener("click", function () { drawMore(BATCH); });
  if (typeof IntersectionObserver !== "undefined") {
    new IntersectionObserver(function (entries) {
      if (entries[0].isIntersecting && !more.hidden && autoShown < AUTO_ROWS) {
        autoShown += BATCH;
        drawMore(BATCH);
      }
    }, { rootMargin: "400px" }).observe(more);
  }

  // The page list: one <details> per page, its links drawn when it is first opened.
  var pageList = byId("page-list"), pageStatus = byId("pages-status"), pageMore = byId("pages-more");
  var pageQ = byId("page-q"), pageBad = byId("page-bad");
  var pageView = [], pagesShown = 0;

  function verdict(pg, k, onLink) {
    var span = el("span", "verdict");
    var st = pg.l[k][4];
    if (st < 0) {
      span.appendChild(el("span", "ok", "compliant"));
    } else {
      var sev = RULES[st].sev;
      for (var i = 0; i < onLink.length; i++) if (onLink[i][0] === st) { sev = onLink[i][1]; break; }
      span.appendChild(el("span", "sev sev-" + sev, SEV[sev]));
      span.appendChild(document.createTextNode(" "));
      span.appendChild(ruleCode(st));
    }
    for (var j = 0; j < onLink.length; j++) {
      if (onLink[j][0] === st) continue;
      var also = el("span", "also");
      also.appendChild(sevBadge(onLink[j][1]));
      also.appendChild(document.createTextNode(" "));
      also.appendChild(ruleCode(onLink[j][0]));
      also.title = onLink[j][4];
      span.appendChild(also);
    }
    return span;
  }

  function fillPage(d) {
    if (d.getAttribute("data-filled")) return;
    d.setAttribute("data-filled", "1");
    var pg = pages[Number(d.getAttribute("data-page"))];
    var box = el("div", "body");
    var byLink = {}, pageLevel = [];
    for (var i = 0; i < pg.f.length; i++) {
      var f = pg.f[i];
      if (f[5] >= 0) (byLink[f[5]] = byLink[f[5]] || []).push(f); else pageLevel.push(f);
    }
    if (pg.l.length) {
      box.appendChild(el("h3", null, plural(pg.l.length, "affiliate link", "affiliate links")));
      var wrap = el("div", "table-wrap"), table = el("table", "links"), head = el("tr");
      ["Line", "Link text", "Link URL", "Network", "Verdict", "Disclosure found"].forEach(function (t, n) {
        var th = el("th", n === 0 ? "num" : null, t);
        th.scope = "col";
        head.appendChild(th);
      });
      var thead = el("thead"), tbody = el("tbody");
      thead.appendChild(head);
      table.appendChild(thead);
      for (var k = 0; k < pg.l.length; k++) {
        var l = pg.l[k], tr = el("tr");
        tr.appendChild(el("td", "c-num", String(l[3])));
        tr.appendChild(el("td", null, l[1]));
        var u = el("td");
        u.appendChild(el("span", "url", l[0]));
        tr.appendChild(u);
        tr.appendChild(el("td", null, netName(l[2])));
        var v = el("td");
        v.appendChild(verdict(pg, k, byLink[k] || []));
        tr.appendChild(v);
        var ex = l[5] >= 0 ? pg.x[l[5]] : "";
        tr.appendChild(el("td", ex ? null : "empty",
          ex ? "\u201c" + ex + "\u201d" + (l[6] ? " (" + STRENGTH[l[6]] + ")" : "") : "none found"));
        tbody.appendChild(tr);
      }
      table.appendChild(tbody);
      wrap.appendChild(table);
      box.appendChild(wrap);
    } else {
      box.appendChild(el("p", "empty", "No affiliate links on this page."));
    }
    if (pageLevel.length) {
      box.appendChild(el("h3", null, "Page-level findings"));
      var ul = el("ul");
      pageLevel.forEach(function (f) {
        var li = el("li");
        li.appendChild(sevBadge(f[1]));
        li.appendChild(document.createTextNode(" "));
        li.appendChild(ruleCode(f[0]));
        li.appendChild(document.createTextNode(" (line " + f[2] + "): " + f[4]));
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
    d.appendChild(box);
  }

  function pageEl(p) {
    var pg = pages[p];
    var d = el("details", "page");
    d.setAttribute("data-page", String(p));
    var s = el("summary");
    s.appendChild(el("span", "page-url", pg.u));
    var compliant = 0;
    for (var i = 0; i < pg.l.length; i++) if (pg.l[i][4] < 0) compliant++;
    var counts = el("span", "counts");
    counts.appendChild(document.createTextNode(plural(pg.l.length, "affiliate link", "affiliate links") +
      " · " + fmt(compliant) + " compliant · "));
    counts.appendChild(el("span", pg.f.length ? "bad" : "good", plural(pg.f.length, "violation", "violations")));
    s.appendChild(counts);
    d.appendChild(s);
    d.addEventListener("toggle", function () { if (d.open) fillPage(d); });
    return d;
  }

  function updatePageStatus() {
    pageStatus.textContent = pageView.length === 0 ? "No page matches."
      : "Showing " + fmt(pagesShown) + " of " + plural(pageView.length, "page", "pages") + ".";
    pageMore.hidden = pagesShown >= pageView.length;
    if (!pageMore.hidden) {
      pageMore.textContent = "Show " + fmt(Math.min(PAGE_BATCH, pageView.length - pagesShown)) + " more pages";
    }
  }

  function drawPages(n) {
    var end = Math.min(pageView.length, pagesShown + n);
    var frag = document.createDocumentFragment();
    for (var i = pagesShown; i < end; i++) frag.appendChild(pageEl(pageView[i]));
    pageList.appendChild(frag);
    pagesShown = end;
    updatePageStatus();
  }

  function filterPages() {
    var text = pageQ.value.trim().toLowerCase(), bad = pageBad.checked;
    pageView = [];
    for (var p = 0; p < pages.length; p++) {
      if (bad && !pages[p].f.length) continue;
      if (text && pages[p].u.toLowerCase().indexOf(text) < 0) continue;
      pageView.push(p);
    }
    pageList.textContent = "";
    pagesShown = 0;
    drawPages(PAGE_BATCH);
  }

  var pageTimer = null;
  pageQ.addEventListener("input", function () {
    clearTimeout(pageTimer);
    pageTimer = setTimeout(filterPages, 120);
  });
  pageBad.addEventListener("change", filterPages);
  pageMore.addEventListener("click", function () { drawPages(PAGE_BATCH); });
  byId("pages-expand").addEventListener("click", function () {
    var all = pageList.querySelectorAll("details.page");
    for (var i = 0; i < all.length; i++) { fillPage(all[i]); all[i].open = true; }
  });

  // Printing shows everything: every row of the table as filtered, every page opened.
  window.addEventListener("beforeprint", function () {
    drawMore(view.length - shown);
    drawPages(pageView.length - pagesShown);
    var all = pageList.querySelectorAll("details.page");
    for (var i = 0; i < all.length; i++) { fillPage(all[i]); all[i].open = true; }
  });

  // The table's filter and order live in the address's fragment (#q=…&rule=…&sev=…&sort=-line),
  // so a filtered view can be bookmarked or sent.
  function saveState() {
    var parts = [];
    if (q.value) parts.push("q=" + encodeURIComponent(q.value));
    if (ruleSel.value !== "") parts.push("rule=" + encodeURIComponent(RULES[Number(ruleSel.value)].id));
    if (sevSel.value !== "") parts.push("sev=" + SEV[Number(sevSel.value)]);
    if (sortCol) parts.push("sort=" + (sortDir < 0 ? "-" : "") + sortCol);
    try {
      history.replaceState(null, "", parts.length ? "#" + parts.join("&") : location.pathname + location.search);
    } catch (e) { /* some browsers refuse it for file: addresses */ }
  }
  function loadState() {
    var hash = location.hash.replace(/^#/, "");
    if (!/(^|&)(q|rule|sev|sort)=/.test(hash)) return false;
    var sort = null;
    hash.split("&").forEach(function (kv) {
      var at = kv.indexOf("="), k = kv.slice(0, at), v = "";
      try { v = decodeURIComponent(kv.slice(at + 1)); } catch (e) { return; }
      if (k === "q") q.value = v;
      if (k === "rule") for (var i = 0; i < RULES.length; i++) if (RULES[i].id === v) ruleSel.value = String(i);
      if (k === "sev" && SEV.indexOf(v) >= 0) sevSel.value = String(SEV.indexOf(v));
      if (k === "sort") sort = v;
    });
    if (sort) {
      var desc = sort.charAt(0) === "-", col = desc ? sort.slice(1) : sort;
      if (GET[col]) { sortCol = col; sortDir = desc ? -1 : 1; applySort(); return true; }
    }
    return false;
  }
  [q, ruleSel, sevSel].forEach(function (e) { e.addEventListener("change", saveState); });
  var stateTimer = null;
  q.addEventListener("input", function () { clearTimeout(stateTimer); stateTimer = setTimeout(saveState, 400); });
  for (var hb = 0; hb < headers.length; hb++) headers[hb].addEventListener("click", saveState);

  document.title = "Affiliate disclosure audit: " + plural(meta.findings, "violation", "violations") +
    " on " + plural(meta.pages, "page", "pages") + " (affcheck)";
  if (!loadState()) applyFilter();
  filterPages();
})();
