import { ChildProcess, spawn } from "child_process";

/**
 * A stand-in for S3 and STS on 127.0.0.1, in its own process (the code under test blocks
 * on terraform), for the AWS SDK and terraform's S3 backend pointed at it with
 * AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_STS. STS says the caller is `identity`. S3 answers
 * as AWS does under the notebook user policy for that person: objects under
 * `/<user>/` are theirs (no state yet: 404); so are the keys in `listable` (the caller may list
 * them, so S3 says a missing one is missing: 404); every other object and listing is refused (403).
 */
const SERVER = `
const http = require("http");
const [identity, user, listableJson] = process.argv.slice(1);
const listable = JSON.parse(listableJson || "[]");
const xml = (res, status, body) => { res.writeHead(status, { "content-type": "text/xml", "content-length": Buffer.byteLength(body) }); res.end(body); };
http.createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    if (body.includes("Action=GetCallerIdentity")) {
      return xml(res, 200, '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>' + identity + '</Arn><UserId>AIDAEXAMPLE</UserId><Account>111122223333</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>');
    }
    const path = decodeURIComponent(req.url.split("?")[0]);
    if (req.url.includes("/" + user + "/") || listable.some((key) => path.endsWith("/" + key))) {
      if (req.method === "HEAD") { res.writeHead(404); return res.end(); }
      return xml(res, 404, "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>");
    }
    if (req.method === "HEAD") { res.writeHead(403); return res.end(); }
    return xml(res, 403, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>");
  });
}).listen(0, "127.0.0.1", function () { process.stdout.write(String(this.address().port) + "\\n"); });
`;

export async function startFakeAws(identity: string, user: string, listable: string[] = []): Promise<{ env: Record<string, string>; stop: () => void }> {
  const child: ChildProcess = spawn(process.execPath, ["-e", SERVER, identity, user, JSON.stringify(listable)], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.once("data", (d) => resolve(String(d).trim()));
    child.once("exit", (code) => reject(new Error(`fake AWS exited with ${code}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    env: {
      AWS_ENDPOINT_URL_S3: url,
      AWS_ENDPOINT_URL_STS: url,
      AWS_ACCESS_KEY_ID: "AKIAEXAMPLE",
      AWS_SECRET_ACCESS_KEY: "secret",
      AWS_REGION: "eu-west-1",
      AWS_PROFILE: "",
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    },
    stop: () => child.kill(),
  };
}
