// An independent judge of the storyboard stage's WebVTT (npm webvtt-parser, pinned in
// package.json), driven by tests/interop/storyboard_interop_test.cc.
//
//   node check_storyboard.js DIR DURATION_SECONDS
//     parses DIR/storyboard.vtt, then checks that the cues cover [0, DURATION] in order
//     without gaps or overlaps and that each cue's "SHEET#xywh=x,y,w,h" lies inside
//     DIR/SHEET, whose pixel size is read from the JPEG's own frame header.
// Prints {"cues": N, "sheets": {name: [w, h]}} and exits 0, or prints the problems and
// exits 1.
"use strict";
const fs = require("fs");
const path = require("path");
const { WebVTTParser } = require("webvtt-parser");

// Width and height from a JPEG's start-of-frame segment (SOF0..SOF15 but DHT, JPG, DAC).
function jpegSize(bytes) {
  let at = 2;
  while (at + 9 < bytes.length) {
    if (bytes[at] !== 0xff) throw new Error("not a JPEG marker at " + at);
    const marker = bytes[at + 1];
    const length = bytes.readUInt16BE(at + 2);
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return [bytes.readUInt16BE(at + 7), bytes.readUInt16BE(at + 5)];
    }
    at += 2 + length;
  }
  throw new Error("no frame header");
}

function main([dir, durationText]) {
  const duration = Number(durationText);
  const tree = new WebVTTParser().parse(
    fs.readFileSync(path.join(dir, "storyboard.vtt"), "utf8"), "metadata");
  const problems = tree.errors.map((e) => `line ${e.line}: ${e.message}`);
  const sheets = {};
  let covered = 0;
  for (const cue of tree.cues) {
    const where = `cue ${cue.startTime}-${cue.endTime}`;
    if (Math.abs(cue.startTime - covered) > 0.0005) problems.push(`${where}: gap or overlap`);
    covered = cue.endTime;
    const target = /^([^#\s]+)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(cue.text);
    if (!target) {
      problems.push(`${where}: not SHEET#xywh=x,y,w,h: ${cue.text}`);
      continue;
    }
    const [, sheet, x, y, w, h] = target;
    if (!(sheet in sheets)) sheets[sheet] = jpegSize(fs.readFileSync(path.join(dir, sheet)));
    const [width, height] = sheets[sheet];
    if (+w <= 0 || +h <= 0 || +x + +w > width || +y + +h > height) {
      problems.push(`${where}: ${cue.text} outside ${width}x${height}`);
    }
  }
  if (tree.cues.length === 0) problems.push("no cues");
  if (Math.abs(covered - duration) > 0.0005) problems.push(`cues end at ${covered}, not ${duration}`);
  if (problems.length) {
    console.log(problems.join("\n"));
    return 1;
  }
  console.log(JSON.stringify({ cues: tree.cues.length, sheets }));
  return 0;
}

process.exitCode = main(process.argv.slice(2));
