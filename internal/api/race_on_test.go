//go:build race

package api_test

// raceDetector reports a -race build, whose instrumentation makes image
// decoding some thirty times slower.
const raceDetector = true
