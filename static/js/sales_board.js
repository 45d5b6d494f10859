// The opportunity board: drag a card to another column and the deal moves there (POST to its move
// URL with htmx). The answer is the two columns the card left and entered, as the server now sees
// them, swapped in by id (out of band), so a refused move (a stage gate, a lost deal without a
// reason) puts the card back and shows why in that column.
(function () {
  function init() {
    var board = document.getElementById("board");
    if (!board || typeof Sortable === "undefined") { return; }
    board.querySelectorAll(".board-cards").forEach(function (list) {
      if (list.dataset.sortable) { return; }
      list.dataset.sortable = "1";
      Sortable.create(list, {
        group: "board", animation: 120, draggable: ".board-card", delay: 150, delayOnTouchOnly: true,
        forceFallback: true, fallbackOnBody: true,
        onEnd: function (event) {
          if (event.from === event.to) { return; }
          var card = event.item;
          var url = board.dataset.moveTemplate.replace(/\/0\/move\/$/, "/" + card.dataset.id + "/move/");
          htmx.ajax("POST", url, {
            target: "#board", swap: "none",
            values: {stage: event.to.dataset.stage, version: card.dataset.version, from: "board"}
          });
        }
      });
    });
  }
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
  document.addEventListener("htmx:oobAfterSwap", init);  // the columns a move swapped in
})();
