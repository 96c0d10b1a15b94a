// Command herald is a mailing-list server: LMTP in, list posts out.
package main

func main() {}
