// Validates Kubernetes objects against the schemas of kubernetes-models (the Kubernetes OpenAPI) and
// @kubernetes-models/prometheus-operator (the Prometheus Operator's CRDs): a JSON array of objects on stdin, one
// line per problem on stdout, exit 1 when there is any. An object whose apiVersion and kind neither package
// knows is a problem too: nothing goes unchecked.
//   node validate.mjs < objects.json
import { readFileSync } from "node:fs";

const objects = JSON.parse(readFileSync(0, "utf8"));
const problems = [];
for (const object of objects) {
  const where = `${object.kind}/${object.metadata?.name} (${object.apiVersion})`;
  const Model = await model(object.apiVersion, object.kind);
  if (!Model) {
    problems.push(`${where}: no schema for this apiVersion and kind`);
    continue;
  }
  try {
    new Model(object).validate();
  } catch (e) {
    problems.push(`${where}: ${e.message}`);
  }
}
problems.forEach((p) => console.log(p));
process.exit(problems.length === 0 ? 0 : 1);

async function model(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const module = group === "monitoring.coreos.com"
    ? `@kubernetes-models/prometheus-operator/${group}/${version}`
    : group === "" ? `kubernetes-models/${version}` : `kubernetes-models/${group}/${version}`;
  try {
    return (await import(module))[kind];
  } catch {
    return undefined;
  }
}
