/**
 * One DNS message in, one out: the cluster zone (./zone.ts) on the wire (RFC 1035, EDNS0 per RFC 6891),
 * encoded and decoded by dns-packet. Pure — the sockets are in src/adapters/dns/server.ts and in the
 * data plane's listener.
 *
 *   - Anything shorter than a header, and responses, are dropped (no answer to garbage or reflections).
 *   - A header that parses but a body that does not: FORMERR. Opcodes other than QUERY: NOTIMP. Not
 *     exactly one question: FORMERR. A class other than IN (or ANY): REFUSED.
 *   - EDNS0: the OPT record's size is honoured (at least 512, at most 65535); the answer carries an OPT
 *     advertising 1232 bytes. An EDNS version above 0: BADVERS (extended rcode 16).
 *   - Over UDP, an answer larger than the client can take is sent truncated: TC set, header and
 *     question only (and OPT), so the client asks again over TCP.
 */
import packet from "dns-packet";
import type { ClusterZone, Rr } from "./zone.ts";

export const EDNS_ADVERTISED = 1232;
const RCODE: Record<string, number> = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
};
const BADVERS = 16;

type Answer = packet.Answer;

export interface Exchange {
  /** The response to send, or undefined to send nothing. */
  response?: Buffer;
  /** For logs and tests: the question and rcode, or why the message was dropped. */
  summary: string;
}

export function respond(zone: ClusterZone, msg: Buffer, transport: "udp" | "tcp"): Exchange {
  if (msg.length < 12) return { summary: "dropped: shorter than a DNS header" };
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000) return { summary: "dropped: a response, not a query" };
  const rd = flags & packet.RECURSION_DESIRED;
  const opcode = (flags >> 11) & 0xf;
  const bare = (rcode: number, why: string): Exchange => ({
    response: header(id, ((opcode & 0xf) << 11) | rd | rcode),
    summary: why,
  });
  if (opcode !== 0) return bare(RCODE.NOTIMP, `NOTIMP: opcode ${opcode}`);
  let query: packet.Packet;
  try {
    query = packet.decode(msg);
  } catch (e) {
    return bare(RCODE.FORMERR, `FORMERR: ${(e as Error).message}`);
  }
  const questions = query.questions ?? [];
  if (questions.length !== 1) return bare(RCODE.FORMERR, `FORMERR: ${questions.length} questions`);
  const q = questions[0];
  const opt = (query.additionals ?? []).find((a) => a.type === "OPT") as packet.OptAnswer | undefined;
  const limit = transport === "tcp" ? 65535 : opt ? Math.max(512, opt.udpPayloadSize) : 512;
  const base = {
    id,
    type: "response" as const,
    questions: [q],
    answers: [] as Answer[],
    authorities: [] as Answer[],
    additionals: [] as Answer[],
  };
  const ourOpt = (extendedRcode = 0): Answer =>
    ({
      name: ".",
      type: "OPT",
      udpPayloadSize: EDNS_ADVERTISED,
      extendedRcode,
      ednsVersion: 0,
      flags: 0,
      options: [],
    }) as unknown as Answer;
  if (opt && (opt as unknown as { ednsVersion?: number }).ednsVersion) {
    // BADVERS: the upper 8 bits of the 12-bit rcode go in the OPT record, the lower 4 (0) in the header.
    const r = { ...base, flags: rd, additionals: [ourOpt(BADVERS >> 4)] };
    return {
      response: Buffer.from(packet.encode(r)),
      summary: `BADVERS: EDNS version ${(opt as unknown as { ednsVersion: number }).ednsVersion}`,
    };
  }
  const klass = (q as { class?: string }).class ?? "IN";
  if (klass !== "IN" && klass !== "ANY") {
    const r = { ...base, flags: rd | RCODE.REFUSED, additionals: opt ? [ourOpt()] : [] };
    return { response: Buffer.from(packet.encode(r)), summary: `REFUSED: class ${klass}` };
  }
  const a = zone.lookup(q.name, q.type);
  const summary = `${q.name} ${q.type} → ${a.rcode}${a.answers.length ? ` (${a.answers.length} answers)` : ""}`;
  const full = {
    ...base,
    flags: rd | (a.authoritative ? packet.AUTHORITATIVE_ANSWER : 0) | RCODE[a.rcode],
    answers: a.answers.map(toWire),
    authorities: a.authority.map(toWire),
    additionals: [...a.additionals.map(toWire), ...(opt ? [ourOpt()] : [])],
  };
  const encoded = Buffer.from(packet.encode(full));
  if (encoded.length <= limit) return { response: encoded, summary };
  const truncated = {
    ...full,
    flags: full.flags | packet.TRUNCATED_RESPONSE,
    answers: [],
    authorities: [],
    additionals: opt ? [ourOpt()] : [],
  };
  return {
    response: Buffer.from(packet.encode(truncated)),
    summary: `${summary}, truncated (${encoded.length} > ${limit} bytes)`,
  };
}

function toWire(rr: Rr): Answer {
  // dns-packet's encoder turns a TXT record's strings into Buffers in place: it gets a copy, so the
  // zone's own records stay as they are for the next question.
  const data = rr.type === "TXT" ? [...rr.data] : rr.data;
  return { name: rr.name, type: rr.type, ttl: rr.ttl, class: "IN", data } as Answer;
}

/** A message as TCP carries it: behind its length in two bytes (RFC 1035 4.2.2). */
export function frame(msg: Buffer): Buffer {
  const framed = Buffer.alloc(2 + msg.length);
  framed.writeUInt16BE(msg.length, 0);
  msg.copy(framed, 2);
  return framed;
}

/** A header-only response: no question echoed (it may be what failed to parse). */
function header(id: number, flags: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(0x8000 | flags, 2);
  return b;
}

/**
 * The data plane's probe name: a TXT query for it, sent to a DNS pod's socket, is answered with the
 * listener's who-am-I JSON (pod, port, the client address as received), so `podnet probe` checks DNS
 * ports like any other. Outside every zone podnet serves; `podnet dns` refuses it like any other name.
 */
export const WHOAMI = "whoami.podnet.internal";

/** The question of a well-formed single-question query, or undefined. */
export function questionOf(msg: Buffer): { name: string; type: string } | undefined {
  try {
    const q = packet.decode(msg);
    if (q.type !== "query" || q.questions?.length !== 1) return undefined;
    return { name: q.questions[0].name.toLowerCase(), type: q.questions[0].type };
  } catch {
    return undefined;
  }
}

/** A TXT answer with `text` (split into 255-byte strings) to the query `msg`. */
export function txtResponse(msg: Buffer, text: string): Buffer {
  const q = packet.decode(msg);
  const chunks = text.match(/[\s\S]{1,255}/g) ?? [""];
  return Buffer.from(
    packet.encode({
      id: q.id,
      type: "response",
      flags: q.flags ?? 0,
      questions: q.questions,
      answers: [{ name: q.questions![0].name, type: "TXT", ttl: 0, class: "IN", data: chunks }],
    }),
  );
}
