// An independent reader of the transcript stage's captions.vtt (npm webvtt-parser, pinned
// in package.json), driven by tests/interop/transcript_interop_test.cc.
//
//   node check_captions.js FILE
//     parses FILE as subtitles and prints {"cues": [{"start", "end", "text", "tags"}]}:
//     the times, the cue text as written (escapes kept) and how many markup nodes the
//     parser found in it (our text is never markup). Exits 1 with the problems when the
//     parser reports errors.
"use strict";
const fs = require("fs");
const { WebVTTParser } = require("webvtt-parser");
const { countTags } = require("./vtt_tree");

const tree = new WebVTTParser().parse(fs.readFileSync(process.argv[2], "utf8"), "subtitles");
if (tree.errors.length > 0) {
  for (const e of tree.errors) console.log(`line ${e.line}: ${e.message}`);
  process.exit(1);
}
const cues = tree.cues.map((cue) => ({
  start: cue.startTime,
  end: cue.endTime,
  text: cue.text,
  tags: countTags(cue.tree),
}));
console.log(JSON.stringify({ cues }));
