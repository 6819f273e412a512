// The reference Standard Webhooks library (npm standardwebhooks, pinned in package.json)
// as an independent judge of reprise's webhook signatures; driven by
// tests/interop/webhook_interop_test.cc.
//
//   node cross_check.js sign SECRET ID TIMESTAMP BODY_FILE
//     prints the library's webhook-signature value for the message
//   node cross_check.js verify SECRET ID TIMESTAMP SIGNATURE BODY_FILE
//     prints "verified" and exits 0, or prints the library's error and exits 1
// The body is read as UTF-8; verify parses it as JSON, as the library always does.
"use strict";
const fs = require("fs");
const { Webhook } = require("standardwebhooks");

function main(args) {
  const [command, secret, id, timestamp] = args;
  const webhook = new Webhook(secret);
  if (command === "sign" && args.length === 5) {
    const body = fs.readFileSync(args[4], "utf8");
    process.stdout.write(webhook.sign(id, new Date(Number(timestamp) * 1000), body));
    return 0;
  }
  if (command === "verify" && args.length === 6) {
    const body = fs.readFileSync(args[5], "utf8");
    const headers = {
      "webhook-id": id,
      "webhook-timestamp": timestamp,
      "webhook-signature": args[4],
    };
    try {
      webhook.verify(body, headers);
    } catch (error) {
      process.stdout.write(`${error.name}: ${error.message}`);
      return 1;
    }
    process.stdout.write("verified");
    return 0;
  }
  process.stderr.write("usage: cross_check.js sign|verify ...\n");
  return 2;
}

process.exitCode = main(process.argv.slice(2));
