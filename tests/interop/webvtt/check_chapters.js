// An independent reader of the chapters stage's chapters.vtt (npm webvtt-parser, pinned
// in package.json), driven by tests/interop/chapters_interop_test.cc.
//
//   node check_chapters.js FILE DURATION_SECONDS
//     parses FILE as a chapters track (where the parser allows no markup in titles), then
//     checks that the cues cover [0, DURATION] in order without gaps or overlaps and that
//     each title is one non-empty line of text. Prints {"cues": [{"start", "end",
//     "title", "tags"}]} and exits 0, or prints the problems
//     and exits 1. The title is the cue text as written (escapes kept: webvtt-parser 2.2.0
//     decodes "&amp;" to "&;"), with how many markup nodes the parser found in it.
"use strict";
const fs = require("fs");
const { WebVTTParser } = require("webvtt-parser");
const { countTags } = require("./vtt_tree");

function main([file, durationText]) {
  const duration = Number(durationText);
  const tree = new WebVTTParser().parse(fs.readFileSync(file, "utf8"), "chapters");
  const problems = tree.errors.map((e) => `line ${e.line}: ${e.message}`);
  let covered = 0;
  const cues = [];
  for (const cue of tree.cues) {
    const where = `cue ${cue.startTime}-${cue.endTime}`;
    if (Math.abs(cue.startTime - covered) > 0.0005) problems.push(`${where}: gap or overlap`);
    if (!(cue.endTime > cue.startTime)) problems.push(`${where}: empty`);
    covered = cue.endTime;
    if (cue.text.trim() === "" || cue.text.includes("\n")) {
      problems.push(`${where}: title not one line: ${JSON.stringify(cue.text)}`);
    }
    cues.push({ start: cue.startTime, end: cue.endTime, title: cue.text, tags: countTags(cue.tree) });
  }
  if (tree.cues.length === 0) problems.push("no cues");
  if (Math.abs(covered - duration) > 0.0005) problems.push(`cues end at ${covered}, not ${duration}`);
  if (problems.length) {
    console.log(problems.join("\n"));
    return 1;
  }
  console.log(JSON.stringify({ cues }));
  return 0;
}

process.exitCode = main(process.argv.slice(2));
