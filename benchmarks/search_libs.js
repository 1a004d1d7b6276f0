// The page side of search_libs_bench.py: the same measurements for the plain scan (what
// render/templates/search.js does) and for MiniSearch, FlexSearch and lunr, loaded as classic
// scripts from file:// under a Content-Security-Policy without 'unsafe-eval'. Each function
// returns plain numbers, so that Python reads them through page.evaluate, and does its work
// in a task of its own: code that DevTools evaluates may eval whatever the CSP says, code
// that a timer runs may not (evalRefused checks that the page's CSP holds).
(function () {
  "use strict";
  var nonce = document.currentScript.nonce;

  // As search.js: lower case, accents removed.
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  // ``work`` run as a task of the page's own: under its CSP.
  function task(work) {
    return new Promise(function (done, fail) {
      setTimeout(function () {
        try { Promise.resolve(work()).then(done, fail); } catch (error) { fail(error); }
      }, 0);
    });
  }

  function script(url) {
    return new Promise(function (done, fail) {
      var element = document.createElement("script");
      element.nonce = nonce;
      element.src = url;
      element.onload = done;
      element.onerror = function () { fail(new Error("could not load " + url)); };
      document.head.appendChild(element);
    });
  }

  // As search.js's load and addData: the search file, inflated, folded, cut into lines.
  function loadScan(url) {
    var started = performance.now();
    return script(url).then(function () {
      var data = window.webexArchiveSearch.pop();
      var binary = atob(data.text);
      var bytes = new Uint8Array(binary.length);
      for (var i = 0; i < binary.length; i += 1) { bytes[i] = binary.charCodeAt(i); }
      var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
      return new Response(stream).text();
    }).then(function (text) {
      var lines = text.split("\n");
      lines.pop();
      window.benchLines = lines;
      window.benchFolds = fold(text).split("\n");
      return { ms: performance.now() - started, docs: lines.length };
    });
  }

  // How each library is built, loaded from its serialized form and asked: every word must
  // be in a message (AND), and the last (or every) word may be a prefix, as typing expects
  // of a search box (the plain scan matches any part of a word).
  var LIBS = {
    scan: {
      search: function (_, query) {
        var words = fold(query).split(/\s+/).filter(Boolean);
        var found = 0;
        window.benchFolds.forEach(function (line) {
          for (var k = 0; k < words.length; k += 1) {
            if (line.indexOf(words[k]) < 0) { return; }
          }
          found += 1;
        });
        return found;
      },
    },
    minisearch: {
      options: { fields: ["t"], idField: "i", processTerm: function (t) { return fold(t); } },
      build: function (lines) {
        var index = new MiniSearch(this.options);
        index.addAll(lines.map(function (t, i) { return { i: i, t: t }; }));
        return index;
      },
      serialize: function (index) { return JSON.stringify(index); },
      load: function (data) { return MiniSearch.loadJSON(data, this.options); },
      search: function (index, query) {
        return index.search(query, { combineWith: "AND", prefix: true }).length;
      },
    },
    flexsearch: {
      build: function (lines) {
        var index = new FlexSearch.Index({ tokenize: "forward" });
        lines.forEach(function (t, i) { index.add(i, t); });
        return index;
      },
      serialize: function (index) {
        var chunks = {};
        return Promise.resolve(index.export(function (key, data) { chunks[key] = data; }))
          .then(function () { return JSON.stringify(chunks); });
      },
      load: function (data) {
        var index = new FlexSearch.Index({ tokenize: "forward" });
        var chunks = JSON.parse(data);
        Object.keys(chunks).forEach(function (key) { index.import(key, chunks[key]); });
        return index;
      },
      search: function (index, query) {
        return index.search(query, { limit: 1000000 }).length;
      },
    },
    lunr: {
      build: function (lines) {
        return lunr(function () {
          // No stemmer: a query term with a trailing wildcard skips the pipeline, so
          // "pricing*" would never meet the stored stem "price".
          this.pipeline.remove(lunr.stemmer);
          this.searchPipeline.remove(lunr.stemmer);
          this.ref("i");
          this.field("t");
          var builder = this;
          lines.forEach(function (t, i) { builder.add({ i: i, t: t }); });
        });
      },
      serialize: function (index) { return JSON.stringify(index); },
      load: function (data) { return lunr.Index.load(JSON.parse(data)); },
      search: function (index, query) {
        return index.query(function (q) {
          lunr.tokenizer(query).forEach(function (token) {
            q.term(token, { presence: lunr.Query.presence.REQUIRED,
                            wildcard: lunr.Query.wildcard.TRAILING });
          });
        }).length;
      },
    },
  };

  function gzipped(text) {
    var stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
    return new Response(stream).arrayBuffer().then(function (b) { return b.byteLength; });
  }

  function queries(lib, index, words) {
    return words.map(function (query) {
      var started = performance.now();
      var found = LIBS[lib].search(index, query);
      return [performance.now() - started, found];
    });
  }

  var bench = {
    evalRefused: function () {
      try { return Function("return false")(); } catch (error) { return error.name === "EvalError"; }
    },
    loadScan: loadScan,
    // Builds the index from the lines loadScan left, then serializes it.
    build: function (lib) {
      var started = performance.now();
      var index = LIBS[lib].build(window.benchLines);
      var built = performance.now() - started;
      window.benchIndex = index;
      started = performance.now();
      return Promise.resolve(LIBS[lib].serialize(index)).then(function (data) {
        var serialized = performance.now() - started;
        return gzipped(data).then(function (packed) {
          window.benchSerialized = data;
          return { build: built, serialize: serialized, bytes: new Blob([data]).size,
                   gzip: packed };
        });
      });
    },
    // The serialized index from a classic script (window.benchPrebuilt), loaded.
    load: function (lib, url) {
      var started = performance.now();
      return script(url).then(function () {
        var fetched = performance.now() - started;
        window.benchIndex = LIBS[lib].load(window.benchPrebuilt);
        window.benchPrebuilt = null;
        return { script: fetched, ms: performance.now() - started };
      });
    },
    queries: function (lib, words) { return queries(lib, window.benchIndex, words); },
  };
  window.bench = {};
  Object.keys(bench).forEach(function (name) {
    window.bench[name] = function () {
      var args = arguments;
      return task(function () { return bench[name].apply(null, args); });
    };
  });
})();
