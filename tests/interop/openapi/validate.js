// Validates an OpenAPI document with @apidevtools/swagger-parser (pinned in package.json):
// node validate.js FILE -> exit 0 and "valid", or exit 1 and the validator's message.
const SwaggerParser = require("@apidevtools/swagger-parser");

const file = process.argv[2];
if (!file) {
  console.error("usage: node validate.js openapi.json");
  process.exit(2);
}
SwaggerParser.validate(file).then(
  (api) => {
    console.log(`valid ${api.openapi} ${Object.keys(api.paths).length} paths`);
  },
  (error) => {
    console.log(error.message);
    process.exit(1);
  },
);
