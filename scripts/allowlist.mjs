#!/usr/bin/env node
// Build a project's allowlist with OpenZeppelin's merkle-tree package (the tree its Solidity
// `MerkleProof` verifies; leaves `["address"]`): reads a JSON array of addresses on stdin and
// prints {root, proofs: {address: [bytes32...]}, tree} on stdout. The Python side
// (backend/chain/allowlist.py) runs it; nothing of the tree is computed anywhere else.
import { createRequire } from "node:module";
import { readFileSync, realpathSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(realpathSync(fileURLToPath(import.meta.url)));
const require = createRequire(path.join(here, "..", "package.json"));
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");

const addresses = JSON.parse(readFileSync(0, "utf8"));
const tree = StandardMerkleTree.of(addresses.map((address) => [address]), ["address"]);
const proofs = {};
for (const [index, [address]] of tree.entries()) proofs[address] = tree.getProof(index);
process.stdout.write(JSON.stringify({ root: tree.root, proofs, tree: tree.dump() }));
