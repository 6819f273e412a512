// What the check_*.js scripts share about the cue trees npm webvtt-parser builds.
"use strict";

// How many markup nodes (tags, timestamps) a cue's tree holds: our cue text is never markup.
function countTags(node) {
  let tags = 0;
  for (const child of node.children || []) {
    if (child.type !== "text") tags += 1;
    tags += countTags(child);
  }
  return tags;
}

module.exports = { countTags };
