// Evaluates calls against identity policies with @cloud-copilot/iam-simulate (tests/test_iam_calls.py).
// stdin: {"principal": ARN, "account": ID, "policies": [policy...], "calls": [{"action", "resource", "context"}]}
// stdout: [{"action", "resource", "result": "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied" | "error", "detail"}]
import { runSimulation } from '@cloud-copilot/iam-simulate'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const input = JSON.parse(Buffer.concat(chunks).toString())
const policies = input.policies.map((policy, index) => ({ name: `policy-${index}`, policy }))
const results = []
for (const call of input.calls) {
  const response = await runSimulation({
    request: {
      principal: input.principal, action: call.action,
      resource: { resource: call.resource, accountId: input.account },
      contextVariables: call.context || {},
    },
    identityPolicies: policies, serviceControlPolicies: [], resourceControlPolicies: [],
  }, {})
  const detail = response.resultType === 'error' ? JSON.stringify(response.errors) : ''
  results.push({ action: call.action, resource: call.resource,
                 result: response.resultType === 'error' ? 'error' : response.overallResult, detail })
}
process.stdout.write(JSON.stringify(results))
