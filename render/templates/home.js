(function () {
  "use strict";
  // The table is whole without this script; with it, the headers sort and the tools filter.
  var table = document.getElementById("spaces");
  var tools = document.getElementById("tools");
  if (!table || !tools) {
    return;
  }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var filter = document.getElementById("filter");
  var kind = document.getElementById("kind");
  var shown = document.getElementById("shown");
  tools.hidden = false;

  function apply() {
    var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    var type = kind.value;
    var count = 0;
    rows.forEach(function (row) {
      var title = row.getAttribute("data-title");
      var match = (!type || row.getAttribute("data-type") === type) &&
        words.every(function (word) { return title.indexOf(word) >= 0; });
      row.hidden = !match;
      count += match ? 1 : 0;
    });
    shown.textContent = count + " of " + rows.length + " spaces";
  }

  function sortBy(header, key, numeric) {
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
      cell.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var name = "data-" + key;
    rows.sort(function (a, b) {
      var x = a.getAttribute(name), y = b.getAttribute(name);
      var order = numeric ? Number(x) - Number(y) : (x < y ? -1 : x > y ? 1 : 0);
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header) {
    var key = header.getAttribute("data-key");
    if (!key) {
      return;
    }
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = header.textContent;
    header.textContent = "";
    header.appendChild(button);
    button.addEventListener("click", function () {
      sortBy(header, key, header.hasAttribute("data-numeric"));
    });
  });
  filter.addEventListener("input", apply);
  kind.addEventListener("change", apply);
  apply();
})();
