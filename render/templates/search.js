(function () {
  "use strict";
  // Search inside the page (and, through search files, its other --split parts or, on the
  // archive's home page, every space). Works from file:// under the page's CSP: no fetch, no
  // eval, no modules. The words come from search files (render/search_index.py), classic
  // scripts loaded on first use with this script's nonce; a page without its file reads its
  // own articles from the DOM. Everything shown is made with textContent: no text becomes
  // markup, and marks wrap text nodes only.
  var box = document.querySelector(".find");
  if (!box) { return; }
  var input = box.querySelector("input");
  var status = box.querySelector(".find-count");
  var list = box.querySelector(".find-results");
  var nonce = document.currentScript ? document.currentScript.nonce : "";
  var LIMIT = 200;  // results listed; Enter steps through all of them
  // Each source (a search file, or this page's DOM) is a node of a tree: its groups, then
  // the nodes of the files it lists, so that results come in page order. A group is one
  // page's messages: {label, href (its page; "" for this one), docs: [{text, fold, n,
  // article}]}.
  var sources = null;
  var seen = {};  // the search files asked for, by path: each is loaded once
  var here = path(window.location.href);  // this page, and its own search file
  var ownFile = here.replace(/\.html$/, ".search.js");
  var loading = 0;
  var failed = false;
  var hits = [];  // {group, doc} of every match, in page order
  var at = -1;  // the current hit
  var marked = null;  // the article whose words are marked
  var timer = 0;
  var landing = -1;  // the message to go to once searchable (a link from another page)

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  // The folded text with, for each of its characters, where it came from in ``text``: marks
  // go around the original characters, accents and capitals included.
  function folded(text) {
    if (/^[\x00-\x7f]*$/.test(text)) { return { text: text.toLowerCase(), from: null }; }
    var out = "";
    var from = [];
    for (var i = 0; i < text.length; i += 1) {
      var piece = text.charCodeAt(i) < 128 ? text[i].toLowerCase() : fold(text[i]);
      out += piece;
      for (var j = 0; j < piece.length; j += 1) { from.push(i); }
    }
    from.push(text.length);
    return { text: out, from: from };
  }

  function terms(query) {
    var out = [];
    query.replace(/"([^"]*)"|(\S+)/g, function (_, phrase, word) {
      var term = fold((phrase === undefined ? word : phrase).replace(/\s+/g, " ").trim());
      if (term && out.indexOf(term) < 0) { out.push(term); }
    });
    return out;
  }

  // [start, end) of every occurrence of the terms in ``text``, in order, not overlapping.
  function ranges(text, words) {
    var map = folded(text);
    var found = [];
    words.forEach(function (word) {
      for (var i = map.text.indexOf(word); i >= 0; i = map.text.indexOf(word, i + word.length)) {
        var end = i + word.length;
        found.push(map.from ? [map.from[i], map.from[end]] : [i, end]);
      }
    });
    found.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
    return found.filter(function (range, k) { return !k || range[0] >= found[k - 1][1]; });
  }

  function spaced(text) { return text.replace(/\s+/g, " ").trim(); }

  function articleText(article) {
    var body = article.querySelector(".body");
    var text = body ? body.textContent : "";
    var names = article.querySelectorAll(".files li");
    for (var i = 0; i < names.length; i += 1) {
      var thumb = names[i].querySelector("button.thumb");
      var name = thumb ? thumb.getAttribute("data-name") : names[i].children[1].textContent;
      text += " " + name;
    }
    return spaced(text);
  }

  function pageGroup() {
    var articles = document.querySelectorAll("main article.msg");
    var docs = [];
    for (var i = 0; i < articles.length; i += 1) {
      var text = articleText(articles[i]);
      docs.push({ text: text, fold: fold(text), n: i, article: articles[i] });
    }
    return { label: "", href: "", docs: docs };
  }

  function inflate(base64) {
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i += 1) { bytes[i] = binary.charCodeAt(i); }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text();
  }

  // A file's path, decoded, to tell whether two URLs name one file.
  function path(url) {
    var name = new URL(url, document.baseURI).pathname;
    try { return decodeURIComponent(name); } catch (error) { return name; }
  }

  function partLabel(href, title, split) {
    var tail = split ? href.replace(/\.html$/, "").match(/-(\d{4}(-\d{2})?)$/) : null;
    var part = tail ? tail[1] : "";
    return title ? title + (part ? " · " + part : "") : part;
  }

  // A search file's parts become the groups of ``node``, then the files it lists are loaded
  // under it. The page this is (``here``) is tied to its articles; if their number is not
  // the file's (a page re-rendered without its file), its group is read from the DOM instead.
  function addData(data, base, node, titled) {
    return inflate(data.text).then(function (text) {
      var lines = text.split("\n");
      var folds = fold(text).split("\n");
      var line = 0;
      node.groups = data.parts.map(function (href, p) {
        var first = line;
        line += data.counts[p];
        var link = base + encodeURIComponent(href);
        var articles = path(link) === here ? document.querySelectorAll("main article.msg") : null;
        if (articles && articles.length !== data.counts[p]) { return pageGroup(); }
        var group = { label: partLabel(href, titled ? data.title : "", data.split),
                      href: articles ? "" : link, docs: [] };
        for (var n = 0; first + n < line; n += 1) {
          group.docs.push({ text: lines[first + n], fold: folds[first + n], n: n,
                            article: articles ? articles[n] : null });
        }
        return group;
      });
      data.sources.forEach(function (url) { load(base + url, node, titled, false); });
    });
  }

  // Whether a failed search file leaves other pages unsearched: any file but this page's
  // own, unless it is the first and this page is whole; and the own file of a --split index
  // page (its contents link to other files), which is what leads to the parts.
  function loses(key, first) {
    if (key === ownFile) { return document.querySelector("nav.toc a:not([href^='#'])") !== null; }
    return !first || document.querySelector("nav.parts") !== null;
  }

  // Loads a search file under ``parent`` as a classic script with this script's nonce
  // (file:// allows no fetch). If the page's own file (or the first one it names) fails,
  // the page is still searched, from its DOM.
  function load(url, parent, titled, first) {
    var key = path(url);
    if (seen[key]) { return; }
    seen[key] = true;
    var node = { groups: [], kids: [] };
    parent.kids.push(node);
    var script = document.createElement("script");
    var done = function () { loading -= 1; refresh(false); };
    var fail = function () {
      if (first || key === ownFile) { node.groups = [pageGroup()]; }
      failed = failed || loses(key, first);
      done();
    };
    script.nonce = nonce;
    script.src = url;
    loading += 1;
    script.onload = function () {
      var data = (window.webexArchiveSearch || []).pop();  // the file just run pushed it
      if (!data || data.v !== 2 || !window.DecompressionStream) { fail(); return; }
      var base = url.slice(0, url.lastIndexOf("/") + 1);
      addData(data, base, node, titled).then(done, fail);
    };
    script.onerror = fail;
    document.head.appendChild(script);
  }

  // The search file this page's box names (data-index: its own, or its --split index's,
  // which leads to every part), or the search files a home page lists (data-sources: a JSON
  // list of URLs, one per space). Reading the files is faster than reading the DOM (0.3 s
  // against 0.7 s to 2.4 s at 100,000 messages), and they know the other parts; without
  // one, the page reads its own articles.
  function build() {
    if (sources) { return; }
    var file = box.getAttribute("data-index");
    var listed = JSON.parse(box.getAttribute("data-sources") || "[]");
    sources = { groups: [], kids: [] };
    if (file) { load(file, sources, false, true); }
    listed.forEach(function (url) { load(url, sources, true, false); });
    say();
  }

  function groups(node, out) {
    out.push.apply(out, node.groups);
    node.kids.forEach(function (kid) { groups(kid, out); });
    return out;
  }

  function search(words) {
    var found = [];
    groups(sources, []).forEach(function (group) {
      group.docs.forEach(function (doc) {
        for (var k = 0; k < words.length; k += 1) {
          if (doc.fold.indexOf(words[k]) < 0) { return; }
        }
        found.push({ group: group, doc: doc });
      });
    });
    return found;
  }

  // --- marks in the page ---------------------------------------------------------------

  function unmark() {
    if (!marked) { return; }
    marked.classList.remove("find-hit");
    var marks = marked.querySelectorAll("mark.find-mark");
    for (var i = 0; i < marks.length; i += 1) {
      var parent = marks[i].parentNode;
      parent.replaceChild(document.createTextNode(marks[i].textContent), marks[i]);
      parent.normalize();
    }
    marked = null;
  }

  // Marks the words in the article's text nodes (body and file names), never in markup.
  function mark(article, words) {
    unmark();
    marked = article;
    article.classList.add("find-hit");
    var walker = document.createTreeWalker(article.querySelector(".content") || article,
                                           NodeFilter.SHOW_TEXT);
    var nodes = [];
    for (var node = walker.nextNode(); node; node = walker.nextNode()) { nodes.push(node); }
    nodes.forEach(function (text) {
      if (text.parentNode.closest("time, .marker, .size, .label")) { return; }
      var found = ranges(text.data, words);
      for (var k = found.length - 1; k >= 0; k -= 1) {
        var tail = text.splitText(found[k][0]);
        tail.splitText(found[k][1] - found[k][0]);
        var element = document.createElement("mark");
        element.className = "find-mark";
        tail.parentNode.replaceChild(element, tail);
        element.appendChild(tail);
      }
    });
  }

  // Messages away from the viewport are not rendered (content-visibility): the first jump
  // lands where their guessed heights put it, so jump again until it stays put.
  function land(element) {
    var frames = 0;
    var last = null;
    function settle() {
      element.scrollIntoView({ block: "center" });
      var top = element.getBoundingClientRect().top;
      frames += 1;
      if (top !== last && frames < 30) {
        last = top;
        requestAnimationFrame(settle);
      }
    }
    settle();
  }

  // --- the box -------------------------------------------------------------------------

  function say() {
    var text = "";
    if (input.value.trim() && (hits.length || !loading)) {
      text = hits.length ? (at + 1) + " of " + hits.length.toLocaleString("en") : "no match";
    }
    if (loading) { text += (text ? " · " : "") + "loading…"; }
    if (failed) { text += (text ? " · " : "") + "other pages not searchable"; }
    status.textContent = text;
  }

  // The text around the first match, the words marked. A long message is cut to a window
  // around where its folded text matched first (folding keeps the length of nearly every
  // text), so that a 1 MB message costs no more than a short one.
  function snippet(doc, words) {
    var text = doc.text || "(no text)";
    if (text.length > 2000) {
      var first = Math.max(0, doc.fold.indexOf(words[0]) - 200);
      text = (first ? "…" : "") + text.slice(first, first + 600);
    }
    var found = ranges(text, words);
    var start = found.length ? Math.max(0, found[0][0] - 40) : 0;
    var end = Math.min(text.length, start + 160);
    var out = document.createDocumentFragment();
    var from = start;
    if (start > 0) { out.appendChild(document.createTextNode("…")); }
    found.forEach(function (range) {
      if (range[0] < from || range[1] > end) { return; }
      out.appendChild(document.createTextNode(text.slice(from, range[0])));
      var element = document.createElement("mark");
      element.textContent = text.slice(range[0], range[1]);
      out.appendChild(element);
      from = range[1];
    });
    out.appendChild(document.createTextNode(text.slice(from, end) + (end < text.length ? "…" : "")));
    return out;
  }

  function target(hit) {
    if (hit.doc.article) { return "#" + hit.doc.article.id; }
    return hit.group.href + "#find=" + hit.doc.n + ":" + encodeURIComponent(input.value);
  }

  function where(hit) {
    if (!hit.doc.article) { return hit.group.label; }
    var time = hit.doc.article.querySelector("time");
    return time ? time.textContent : "";
  }

  function show(words) {
    list.textContent = "";
    hits.slice(0, LIMIT).forEach(function (hit, k) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = target(hit);
      link.setAttribute("data-hit", String(k));
      var label = document.createElement("span");
      label.className = "find-where";
      label.textContent = where(hit);
      link.appendChild(label);
      link.appendChild(snippet(hit.doc, words));
      item.appendChild(link);
      list.appendChild(item);
    });
    if (hits.length > LIMIT) {
      var more = document.createElement("li");
      more.className = "find-more";
      more.textContent = (hits.length - LIMIT).toLocaleString("en") +
        " more: Enter steps through them all";
      list.appendChild(more);
    }
    list.hidden = !hits.length || document.activeElement !== input;
  }

  // Searches again for what the box holds; ``fresh``: the words changed, so the current hit
  // starts at the first one (otherwise it stays on the message it was on).
  function refresh(fresh) {
    if (!sources) { return; }
    var words = terms(input.value);
    var was = !fresh && hits[at] ? hits[at].doc : null;
    hits = words.length ? search(words) : [];
    at = hits.length ? 0 : -1;
    hits.forEach(function (hit, k) { if (hit.doc === was) { at = k; } });
    show(words);
    if (!hits.length) {
      unmark();
    } else if (hits[at].doc.article) {
      mark(hits[at].doc.article, words);
    }
    say();
    if (landing >= 0 && !loading) {
      hits.forEach(function (hit, k) { if (hit.doc.article && hit.doc.n === landing) { at = k; } });
      landing = -1;
      go(at);
    }
  }

  function go(k) {
    if (!hits.length) { return; }
    at = (k + hits.length) % hits.length;
    list.hidden = true;
    var hit = hits[at];
    if (!hit.doc.article) {
      window.location.href = target(hit);
      return;
    }
    mark(hit.doc.article, terms(input.value));
    history.replaceState(null, "", "#" + hit.doc.article.id);
    land(hit.doc.article);
    say();
  }

  function clear() {
    input.value = "";
    refresh(true);
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }

  input.addEventListener("focus", function () {
    build();
    list.hidden = !hits.length;
  });
  input.addEventListener("input", function () {
    build();
    clearTimeout(timer);
    timer = setTimeout(function () { timer = 0; refresh(true); }, 0);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();
      if (timer) {  // words typed a moment ago and not searched yet
        clearTimeout(timer);
        timer = 0;
        refresh(true);
      }
      list.hidden = true;
      // The first Enter goes to the current hit; later ones step on (back with Shift).
      var landed = marked && hits[at] && hits[at].doc.article === marked &&
        window.location.hash === "#" + marked.id;
      go(at + (event.shiftKey ? -1 : (landed ? 1 : 0)));
    } else if (event.key === "Escape") {
      event.preventDefault();
      if (input.value) { clear(); } else { input.blur(); }
    } else if (event.key === "ArrowDown" && list.querySelector("a")) {
      event.preventDefault();
      list.hidden = false;
      list.querySelector("a").focus();
    }
  });
  list.addEventListener("keydown", function (event) {
    var links = Array.prototype.slice.call(list.querySelectorAll("a"));
    var k = links.indexOf(document.activeElement);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      var next = k + (event.key === "ArrowDown" ? 1 : -1);
      (next < 0 ? input : links[Math.min(next, links.length - 1)]).focus();
    } else if (event.key === "Escape") {
      event.preventDefault();
      list.hidden = true;
      input.focus();
    }
  });
  list.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-hit]");
    if (!link || !hits[+link.getAttribute("data-hit")].doc.article) { return; }
    event.preventDefault();
    list.hidden = true;
    go(+link.getAttribute("data-hit"));
  });
  box.addEventListener("focusout", function (event) {
    if (!box.contains(event.relatedTarget)) { list.hidden = true; }
  });
  box.querySelector(".find-next").addEventListener("click", function () { go(at + 1); });
  box.querySelector(".find-prev").addEventListener("click", function () { go(at - 1); });
  document.addEventListener("keydown", function (event) {
    var active = document.activeElement;
    var typing = active && (/^(input|textarea|select)$/i.test(active.tagName) ||
                            active.isContentEditable);
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      input.focus();
      input.select();
    }
  });

  // Another page's result leads here as #find=<n>:<words>: search again, go to message n.
  box.hidden = false;
  var asked = /^#find=(\d+):(.*)$/.exec(window.location.hash);
  if (asked) {
    build();
    try { input.value = decodeURIComponent(asked[2]); } catch (error) { input.value = ""; }
    landing = +asked[1];
    input.focus({ preventScroll: true });  // so that Enter goes on from here
    refresh(true);
  }
})();
