// steadystyle study game: the server draws the pairs and their left/right order; the page shows
// a trial (an opaque token and two media URLs) and sends the participant's pick.
"use strict";

const $ = (id) => document.getElementById(id);
const game = { trial: null, votes: 0, pairs: 0, busy: false, done: false, finished: false, errors: [] };
window.study = game;
const STORE = "steadystyle-study-participant";

function showError(text) { $("error").textContent = text; game.errors.push(text); }

async function join() {
  const response = await fetch("/api/study/join", { method: "POST" });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error || `join refused (${response.status})`);
  localStorage.setItem(STORE, answer.participant);
  return answer.participant;
}

async function participant() {
  return localStorage.getItem(STORE) || await join();
}

function mediaElement(kind, url) {
  const el = document.createElement(kind === "video" ? "video" : "img");
  el.src = url;
  if (kind === "video") { el.autoplay = true; el.loop = true; el.muted = true; el.playsInline = true; }
  return el;
}

function showProgress(answer) {
  game.votes = answer.votes_so_far; game.pairs = answer.pairs; game.finished = answer.finished;
  $("count").textContent = `${game.votes} / ${game.pairs}`;
  const link = $("results-link");
  link.hidden = !game.finished;
  link.href = `/study/results?participant=${encodeURIComponent(game.participant)}`;
}

let requested = 0;  // only the newest request's trial is shown (a round change may overtake a load)

async function next() {
  const mine = ++requested;
  game.participant = await participant();
  const round = $("round").value;
  const query = new URLSearchParams({ participant: game.participant });
  if (round) query.set("round", round);
  let response = await fetch(`/api/study/next?${query}`);
  if (response.status === 404) {  // an id from another study (or a reset one): join again
    localStorage.removeItem(STORE);
    game.participant = await participant();
    query.set("participant", game.participant);
    response = await fetch(`/api/study/next?${query}`);
  }
  const trial = await response.json();
  if (mine !== requested) return;
  if (!response.ok) { showError(trial.error); return; }
  showProgress(trial);
  game.done = trial.done;
  for (const side of ["left", "right"]) $(`${side}-media`).innerHTML = "";
  if (trial.done) {
    game.trial = null;
    $("prompt").textContent = trial.finished ? "Thank you: you voted on every pair." : "No pair left in this round.";
    return;
  }
  game.trial = trial;
  $("prompt").textContent = trial.prompt;
  for (const side of ["left", "right"]) $(`${side}-media`).appendChild(mediaElement(trial.kind, trial.media[side]));
}

async function pick(choice) {
  if (!game.trial || game.busy) return;
  game.busy = true;
  try {
    const response = await fetch("/api/study/vote", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ participant: game.participant, trial: game.trial.trial, choice }),
    });
    const answer = await response.json();
    if (!response.ok) { showError(answer.error); return; }
    showProgress(answer);
    await next();
  } finally {
    game.busy = false;
  }
}

$("left").addEventListener("click", () => pick("left"));
$("right").addEventListener("click", () => pick("right"));
$("round").addEventListener("change", next);
document.addEventListener("keydown", (e) => {
  if (e.key === "ArrowLeft") pick("left");
  if (e.key === "ArrowRight") pick("right");
});
next().catch((e) => showError(String(e))).then(() => { game.ready = true; });
