// Judges recorded API answers against the OpenAPI document's response schemas with Ajv
// (JSON Schema 2020-12, the dialect of OpenAPI 3.1; pinned in package.json):
//   node validate_responses.js openapi.json answers.json
// answers.json is an array of {"method", "path", "status", "body"}, where "path" is the
// document's path template ("/api/v1/assets/{id}") and "body" the parsed JSON answer.
// Prints one line per answer ("ok METHOD PATH STATUS" or "invalid ..." with Ajv's errors)
// and exits 1 when any answer is invalid or has no JSON schema in the document for its
// method, path and status: an undocumented answer fails as surely as a wrong one.
const fs = require("fs");
const Ajv2020 = require("ajv/dist/2020");

const [docFile, answersFile] = process.argv.slice(2);
if (!docFile || !answersFile) {
  console.error("usage: node validate_responses.js openapi.json answers.json");
  process.exit(2);
}
const doc = JSON.parse(fs.readFileSync(docFile, "utf8"));
const answers = JSON.parse(fs.readFileSync(answersFile, "utf8"));

// The document is added whole, so the schemas' "#/components/..." references resolve in it.
// OpenAPI's own keywords (description, example, contentMediaType) are not validation
// keywords: strict mode would refuse them.
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
ajv.addSchema(doc, "openapi");

// One JSON Pointer token (RFC 6901).
const token = (text) => String(text).replace(/~/g, "~0").replace(/\//g, "~1");

let failed = 0;
for (const answer of answers) {
  const method = answer.method.toLowerCase();
  const label = `${answer.method} ${answer.path} ${answer.status}`;
  // A response is written in place or referenced from components.responses.
  let where = ["paths", answer.path, method, "responses", String(answer.status)];
  let response = doc.paths?.[answer.path]?.[method]?.responses?.[String(answer.status)];
  if (response?.$ref?.startsWith("#/components/responses/")) {
    const name = response.$ref.slice("#/components/responses/".length);
    where = ["components", "responses", name];
    response = doc.components.responses[name];
  }
  if (!response?.content?.["application/json"]?.schema) {
    console.log(`undocumented ${label}`);
    failed++;
    continue;
  }
  const pointer = [...where, "content", "application/json", "schema"].map(token).join("/");
  const validate = ajv.compile({ $ref: `openapi#/${pointer}` });
  if (validate(answer.body)) {
    console.log(`ok ${label}`);
  } else {
    failed++;
    console.log(`invalid ${label}: ${ajv.errorsText(validate.errors, { separator: "; " })}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
