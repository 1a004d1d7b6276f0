(function () {
  "use strict";
  var viewer = document.getElementById("viewer");
  var toTop = document.querySelector(".to-top");
  document.addEventListener("click", function (event) {
    var thumb = event.target.closest ? event.target.closest("button.thumb") : null;
    if (thumb && viewer) {
      // The <img> is made here: HTML5 forbids an <img> without src in the markup.
      var image = viewer.querySelector("img");
      if (!image) {
        image = document.createElement("img");
        viewer.insertBefore(image, viewer.querySelector("p"));
      }
      image.src = thumb.getAttribute("data-full");
      image.alt = thumb.getAttribute("data-name") || "";
      viewer.querySelector("p").textContent = thumb.getAttribute("data-name") || "";
      viewer.showModal();
    } else if (viewer && event.target.closest && event.target.closest("#viewer")) {
      viewer.close();
    }
  });
  function placeButton() {
    if (toTop) { toTop.classList.toggle("shown", window.scrollY > 400); }
  }
  // Months, and the runs of messages inside them, are rendered only near the viewport
  // (content-visibility in style.css). Until one is, its height is guessed from its number of
  // messages, so that the scroll bar is about right and rendering one does not push the rest
  // away (a run holds 1 to 100 messages: one fixed guess for all made the page jump).
  var blocks = document.querySelectorAll("section.month, div.run");
  for (var i = 0; i < blocks.length; i += 1) {
    var count = blocks[i].getElementsByTagName("article").length;
    blocks[i].style.containIntrinsicSize = "auto " + (count * 4.5) + "rem";
  }
  // A jump to #msg-… or to a month first lands where the guessed heights put it; the messages
  // around it are then rendered at their real heights, so jump again until it stays put.
  function landOnTarget() {
    var target = location.hash.length > 1 ?
      document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
    var frames = 0;
    var last = null;
    function settle() {
      target.scrollIntoView();
      var top = target.getBoundingClientRect().top;
      frames += 1;
      if (top !== last && frames < 30) {
        last = top;
        requestAnimationFrame(settle);
      }
    }
    if (target) { requestAnimationFrame(settle); }
  }
  window.addEventListener("hashchange", landOnTarget);
  window.addEventListener("load", landOnTarget);
  window.addEventListener("scroll", placeButton, { passive: true });
  placeButton();
})();
