import assert from "node:assert/strict";
import { test } from "node:test";
import { associationLabels, PEOPLE_GROUP, peopleGroupRegion } from "../../src/mrf/people-group.js";
import type { Region } from "../../src/vision/image.js";

const box = (x1: number, y1: number, x2: number, y2: number) => ({ x1, y1, x2, y2 });
const person = (x1: number, x2: number): Region => ({
  box: box(x1, 10, x2, 90),
  source: "detection",
  label: "person",
  score: 0.9,
});

test("the group is the box holding the most people, the smallest on a tie", () => {
  const regions: Region[] = [
    { box: box(0, 0, 100, 100), source: "whole" },
    person(5, 25),
    person(30, 50),
    person(60, 80),
    { box: box(0, 0, 55, 100), source: "fallback" }, // holds two
    { box: box(0, 5, 85, 95), source: "fallback" }, // holds three
    { box: box(0, 0, 90, 100), source: "fallback" }, // three too, larger
    { box: box(60, 0, 100, 100), source: "detection", label: "dog", score: 0.5 },
  ];
  assert.equal(peopleGroupRegion(regions), 5);
  assert.deepEqual(associationLabels(regions), [
    undefined,
    "person",
    "person",
    "person",
    undefined,
    PEOPLE_GROUP,
    undefined,
    "dog",
  ]);
});

test("no group with fewer than two people, or no box holding two", () => {
  const one: Region[] = [person(5, 25), { box: box(0, 0, 100, 100), source: "fallback" }];
  assert.equal(peopleGroupRegion(one), undefined);
  const apart: Region[] = [
    person(5, 25),
    person(60, 80),
    { box: box(0, 0, 30, 100), source: "fallback" },
  ];
  assert.equal(peopleGroupRegion(apart), undefined);
});
